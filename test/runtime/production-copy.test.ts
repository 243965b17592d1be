// What production needs is what `npm run build` leaves plus the production dependencies
// (issue 8 item 1, SPEC §10): the build output copied alone into a fresh folder, `npm ci
// --omit=dev` there, then the server started as `npm start` starts it (`node dist/server.js`,
// no TypeScript loader) logs a user in and forwards with a Bearer.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../harness/app';
import { Browser, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';

const run = promisify(execFile);
const DIST_DIR = process.env.NEXT_DIST_DIR || '.next';
/** Exactly what a production image carries besides node_modules (see the Dockerfile). */
const SHIPPED = ['package.json', 'package-lock.json', 'next.config.ts', 'dist', DIST_DIR];

describe('the build output with production dependencies only', { timeout: 300_000 }, () => {
  let copy: string;
  let stack: Stack;
  before(async () => {
    copy = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-prod-'));
    for (const entry of SHIPPED) await cp(path.join(ROOT, entry), path.join(copy, entry), {
      recursive: true,
      // Next links its external packages from the build (`.next/node_modules/x -> ../../node_modules/x`):
      // keep those links relative, as a container COPY does, so they point into the copy.
      verbatimSymlinks: true,
      filter: (src) => !src.includes(`${path.sep}cache${path.sep}`),
    });
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: copy, timeout: 240_000 });
    stack = await startStack({ app: { root: copy } });
  }, { timeout: 280_000 });
  after(async () => {
    await stack?.close();
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  test('has no development tool installed', async () => {
    const installed = await readdir(path.join(copy, 'node_modules'));
    for (const tool of ['tsx', 'esbuild', 'typescript', 'oidc-provider', 'playwright', 'pino-pretty']) assert.ok(!installed.includes(tool), `${tool} is installed`);
  });

  test('starts, logs a user in and forwards with a Bearer', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, stack.appUrl);
    const res = await browser.get(`${stack.appUrl}/api/me`);
    assert.equal(res.status, 200);
    assert.match(String(stack.upstream.last('/me')?.headers.authorization), /^Bearer \S+$/);
  });

  test('LOG_FORMAT=text without pino-pretty: JSON lines after one warning naming LOG_FORMAT, and the server serves', async () => {
    const app = await stack.restartApp({ LOG_FORMAT: 'text' });
    const ping = await fetch(`${stack.appUrl}/oauth2/ping`);
    assert.equal(await ping.text(), 'pong');
    await app.waitForLog(/"msg":"listening"/);
    const notJson = app.logs.filter((line) => !line.startsWith('{'));
    assert.deepEqual(notJson, [], 'every line is JSON');
    const warnings = app.jsonLogs().filter((l) => /LOG_FORMAT=text/.test(String(l.msg)));
    assert.equal(warnings.length, 1, `one warning:\n${app.logs.join('\n')}`);
    assert.equal(warnings[0].level, 'warn');
    assert.match(String(warnings[0].msg), /pino-pretty/);
  });

  test('runs as plain node on the compiled server', () => {
    // NUL-separated arguments of the process the harness spawned.
    const cmdline = readFileSync(`/proc/${stack.app.process.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    assert.match(cmdline, /dist\/server\.js/);
    assert.doesNotMatch(cmdline, /tsx/);
  });
});
