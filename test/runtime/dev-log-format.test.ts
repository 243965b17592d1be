// `npm run dev` logs readable lines (issue 10 item 1, SPEC §2 LOG_FORMAT: `text` in dev): the dev
// stack (dev/start.ts: the embedded IdP, the demo upstream, the server in development mode) is
// started as `npm run dev` starts it, on free ports, and its log lines are pino-pretty's, not
// JSON; a LOG_FORMAT the user sets still wins.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startApp, type App } from '../harness/app';
import { freePort } from '../harness/ports';

/** pino-pretty's line: `[HH:MM:ss.mmm] LEVEL: msg {fields}`. */
const TEXT_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (DEBUG|INFO|WARN|ERROR): /;

async function startDev(env: Record<string, string> = {}): Promise<App> {
  const [idp, upstream] = [await freePort(), await freePort()];
  return startApp(
    { DEV_IDP_PORT: String(idp), DEV_UPSTREAM_PORT: String(upstream), ACCESS_LOG: 'true', NEXT_TELEMETRY_DISABLED: '1', ...env },
    { entry: 'dev/start.ts', timeoutMs: 90_000 },
  );
}

/** One request with our own X-Request-Id; resolves with the log line that names it. */
async function requestLine(app: App, id: string): Promise<string> {
  const res = await fetch(`${app.url}/oauth2/ping`, { headers: { 'x-request-id': id } });
  assert.equal((await res.text()).trim(), 'pong');
  return app.waitForLog(new RegExp(id), 10_000);
}

describe('npm run dev: LOG_FORMAT=text by default', { timeout: 180_000 }, () => {
  // One dev server at a time: Next refuses a second one in the same project ("Another next dev
  // server is already running"), so each test stops its own, whatever its outcome.
  let app: App | undefined;
  after(() => app?.stop());
  const stop = async () => {
    await app?.stop();
    app = undefined;
  };

  test('Gatehouse\'s lines are readable text through pino-pretty, not JSON', async () => {
    try {
      app = await startDev();
      const listening = await app.waitForLog(/listening/);
      assert.match(listening, TEXT_LINE);
      assert.match(listening, /INFO: listening .*"production":false/);
      const access = await requestLine(app, 'dev-text-1');
      assert.match(access, /INFO: request .*"correlation_id":"dev-text-1".*"route":"\/oauth2\/ping"/);
      assert.deepEqual(app.logs.filter((line) => line.startsWith('{')), [], 'no JSON line');
    } finally {
      await stop();
    }
  });

  test('LOG_FORMAT=json set by the user wins over the dev default', async () => {
    try {
      app = await startDev({ LOG_FORMAT: 'json' });
      const line = JSON.parse(await requestLine(app, 'dev-json-1')) as Record<string, unknown>;
      assert.deepEqual([line.level, line.msg, line.correlation_id, line.route], ['info', 'request', 'dev-json-1', '/oauth2/ping']);
    } finally {
      await stop();
    }
  });
});
