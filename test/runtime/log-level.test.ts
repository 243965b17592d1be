// One log threshold per process (issue 8 item 1): the compiled server, proxy.ts and the route
// handlers each load their own copy of lib/, and LOG_LEVEL must reach all of them. Each run makes
// all three log: the server at startup ('listening', info), proxy.ts on a page ('page gate',
// debug), a route handler on /oauth2/logout/local ('session ended', info).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';

const levelsOf = (stack: Stack) => stack.app.jsonLogs().map((line) => ({ level: String(line.level), msg: String(line.msg) }));

/** Logs in, opens the start page (proxy.ts) and logs out locally (a route handler). */
async function exercise(stack: Stack) {
  const browser = new Browser();
  await loginViaIdp(browser, stack.appUrl);
  const page = await browser.get(`${stack.appUrl}/`);
  assert.equal(page.status, 200);
  const logout = await browser.get(`${stack.appUrl}/oauth2/logout/local`);
  assert.equal(logout.status, 204);
}

describe('LOG_LEVEL reaches the server, proxy.ts and the route handlers alike', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { LOG_LEVEL: 'debug' } });
  }, { timeout: 60_000 });
  after(() => stack?.close());

  test('LOG_LEVEL=debug: each of the three logs what it should', async () => {
    await exercise(stack);
    const msgs = levelsOf(stack).map((l) => `${l.level} ${l.msg}`);
    for (const want of ['info listening', 'debug page gate', 'info session ended']) assert.ok(msgs.includes(want), `${want} missing from\n${msgs.join('\n')}`);
  });

  test('LOG_LEVEL=warn: no info or debug line from any of them', async () => {
    await stack.restartApp({ LOG_LEVEL: 'warn' });
    await exercise(stack);
    const quiet = levelsOf(stack).filter((l) => l.level === 'info' || l.level === 'debug');
    assert.deepEqual(quiet, []);
  });
});
