// The whole path once (SPEC §13: "in the new project the same two commands work"): the packed
// scaffold with `--yes` installs the dependencies and makes the first commit; in the new project
// `npm run dev` logs a user in through the embedded dev IdP and forwards to the demo API with a
// Bearer; a project scaffolded with `--issuer` logs in through that identity provider instead (the
// dev stack reads .env.local before it decides); and the new project's `npm test` (build, type
// check, unit tier, smoke test against the production build) passes.
//
// npm installs from its cache (`prefer-offline`). The heavy part runs once; each step's time is
// reported as a test diagnostic.

import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startIdp, type Idp } from '../../dev/idp';
import { Browser, loginViaIdp } from '../harness/http';
import { freePort } from '../harness/ports';
import { terminate, track } from '../harness/processes';
import { eventually } from '../harness/wait';
import { cleanEnv, collect, packScaffold, readEnvFile, runScaffold, tempDir, type Packed } from './support';

const execFileP = promisify(execFile);

/** A deterministic identity for the first commit (a CI machine may have none configured). */
const GIT_IDENTITY = { GIT_AUTHOR_NAME: 'Scaffold Test', GIT_AUTHOR_EMAIL: 'scaffold@example.com', GIT_COMMITTER_NAME: 'Scaffold Test', GIT_COMMITTER_EMAIL: 'scaffold@example.com' };

interface DevStack {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Until `url` answers /oauth2/ping; fails at once when `child` exits first. */
async function waitForPing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const state = await eventually(`npm run dev answering on ${url}`, 120_000, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      const res = await fetch(`${url}/oauth2/ping`, { signal: AbortSignal.timeout(20_000) });
      return (await res.text()).trim() === 'pong' && 'ready';
    } catch {
      return false; // not listening yet
    }
  }, { maxDelayMs: 500, detail: () => output().slice(-3000) });
  if (state === 'exited') throw new Error(`npm run dev exited with ${child.exitCode ?? child.signalCode} before it answered:\n${output()}`);
}

/**
 * Ctrl-C as a terminal sends it (to npm's whole process group), then the whole stack must be gone:
 * dev/start.ts stops the server it started in a process group of its own, and the port is free.
 */
async function stopDev(child: ChildProcess, url: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
    await terminate(child, 'SIGKILL', 1_000);
  }
  await eventually(`the dev server on ${url} to stop`, 20_000, async () => {
    try {
      await fetch(`${url}/oauth2/ping`, { signal: AbortSignal.timeout(2_000) });
      return false;
    } catch {
      return true;
    }
  });
}

/** `npm run dev` in `dir` on free ports, ready when /oauth2/ping answers. */
async function startDev(dir: string): Promise<DevStack> {
  const [port, idpPort, upstreamPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn('npm', ['run', 'dev'], {
    cwd: dir,
    env: cleanEnv({ PORT: String(port), DEV_IDP_PORT: String(idpPort), DEV_UPSTREAM_PORT: String(upstreamPort) }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  track(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  // The dev stack's own INGRESS default is http://localhost:<PORT>: its IdP registers that.
  const url = `http://localhost:${port}`;
  await waitForPing(url, child, () => output);
  return { child, url, output: () => output, stop: () => stopDev(child, url) };
}

describe('create-gatehouse --yes, then npm run dev and npm test in the new project', { timeout: 1_500_000 }, () => {
  let work: string;
  let packed: Packed;
  let app: string;
  const timings: string[] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    try {
      return await fn();
    } finally {
      timings.push(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    }
  };

  before(async () => {
    work = await tempDir('scaffold-full');
    packed = await timed('npm pack', () => packScaffold(work));
    app = path.join(work, 'full-app');
  });
  after(() => {
    if (timings.length) process.stdout.write(`# scaffold full path timings: ${timings.join('; ')}\n`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('--yes scaffolds, installs and makes the first commit, with .env.local and node_modules out of git', async (t) => {
    const run = await timed('scaffold with npm install', () => runScaffold(packed.tarball, ['full-app', '--yes'], { cwd: work, env: GIT_IDENTITY, timeoutMs: 600_000 }));
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.ok(existsSync(path.join(app, 'node_modules', '.bin', 'next')), 'dependencies installed');
    const git = (...args: string[]) => execFileP('git', args, { cwd: app }).then((r) => r.stdout.trim());
    assert.equal((await git('rev-list', '--count', 'HEAD')), '1');
    assert.match(await git('log', '-1', '--format=%s'), /^Start from create-gatehouse \d+\.\d+\.\d+/);
    assert.equal(await git('status', '--porcelain'), '', 'everything written is committed or ignored');
    const tracked = (await git('ls-files')).split('\n');
    assert.ok(tracked.includes('package-lock.json') && tracked.includes('lib/config.ts') && tracked.includes('.gitignore'));
    assert.ok(!tracked.includes('.env.local'), '.env.local (the session secret) is not committed');
    assert.ok(!tracked.some((f) => f.startsWith('node_modules/')));
    t.diagnostic(timings.at(-1) ?? '');
  });

  test('npm run dev: a user logs in through the embedded dev IdP and the demo API gets a Bearer', async (t) => {
    const dev = await timed('npm run dev until ready', () => startDev(app));
    try {
      const browser = new Browser();
      await timed('first login through the dev IdP', () => loginViaIdp(browser, dev.url, { login: 'new-user' }));
      const session = await browser.get(`${dev.url}/oauth2/session`);
      assert.equal(session.status, 200);
      assert.equal(((await session.json()) as { user: { sub: string } }).user.sub, 'new-user');
      const api = await browser.get(`${dev.url}/api/me`);
      assert.equal(api.status, 200);
      const seen = (await api.json()) as { headers: Record<string, string> };
      assert.match(seen.headers.authorization, /^Bearer \S+$/);
      assert.match(dev.output(), /Dev identity provider: http:\/\/localhost:\d+/);
    } finally {
      await dev.stop();
    }
    t.diagnostic(timings.slice(-2).join('; '));
  });

  test('scaffolded with --issuer, npm run dev logs in through that identity provider, not the embedded one', async () => {
    // A real identity provider of our own (the dev IdP's code on a port of ours), its client
    // registered for the app URL the dev stack will have.
    const idpPort = await freePort();
    const appPort = await freePort();
    const appUrl = `http://localhost:${appPort}`;
    let idp: Idp | undefined;
    const envFile = path.join(app, '.env.local');
    const defaultEnv = readFileSync(envFile, 'utf8');
    try {
      idp = await startIdp({
        port: idpPort,
        host: 'localhost',
        issuerHost: 'localhost',
        clients: [{ clientId: 'issuer-app-client', clientSecret: 'issuer-app-secret-0123456789abcdef', redirectUris: [`${appUrl}/oauth2/callback`], postLogoutRedirectUris: [`${appUrl}/oauth2/logout/callback`] }],
      });
      const run = await runScaffold(packed.tarball, ['issuer-app', '--yes', '--no-install', '--no-git', '--issuer', idp.issuer, '--client-id', 'issuer-app-client'], { cwd: work });
      assert.equal(run.code, 0, run.stderr);
      // The new project's settings in the installed one, plus the client secret the user adds.
      const issuerEnv = readFileSync(path.join(work, 'issuer-app', '.env.local'), 'utf8');
      writeFileSync(envFile, `${issuerEnv}\nOIDC_CLIENT_SECRET=issuer-app-secret-0123456789abcdef\n`);
      assert.equal((await readEnvFile(app)).OIDC_ISSUER, idp.issuer);

      const child = spawn('npm', ['run', 'dev'], {
        cwd: app,
        env: cleanEnv({ PORT: String(appPort), DEV_IDP_PORT: String(await freePort()), DEV_UPSTREAM_PORT: String(await freePort()) }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      track(child);
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
      const done = collect(child, 300_000, 'npm run dev with --issuer');
      try {
        await waitForPing(appUrl, child, () => output);
        const before = idp.grants.authorizationCodeGrants;
        const browser = new Browser();
        await loginViaIdp(browser, appUrl, { login: 'real-idp-user' });
        assert.equal(idp.grants.authorizationCodeGrants, before + 1, 'the code was exchanged at the --issuer IdP');
        const session = await browser.get(`${appUrl}/oauth2/session`);
        assert.equal(((await session.json()) as { user: { sub: string } }).user.sub, 'real-idp-user');
      } finally {
        await stopDev(child, appUrl);
      }
      const { stdout } = await done;
      assert.match(stdout, new RegExp(`Identity provider: ${idp.issuer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      assert.doesNotMatch(stdout, /Dev identity provider/);
    } finally {
      writeFileSync(envFile, defaultEnv);
      await idp?.close();
    }
  });

  test('npm test in the new project passes (build, type check, unit tier, smoke test)', async (t) => {
    const child = spawn('npm', ['test'], { cwd: app, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    track(child);
    const run = await timed('npm test in the new project', () => collect(child, 1_200_000, 'npm test'));
    assert.equal(run.code, 0, `${run.stdout.slice(-6000)}\n${run.stderr.slice(-3000)}`);
    assert.ok(existsSync(path.join(app, 'dist', 'server.js')) && existsSync(path.join(app, '.next', 'BUILD_ID')), 'npm run build left the production build');
    assert.match(run.stdout, /smoke: log in through the dev IdP against the production build/);
    assert.match(run.stdout, /^# fail 0$/m);
    t.diagnostic(timings.at(-1) ?? '');
  });
});
