// The smoke test of `npm test`: the production build (`npm run build`) started as `npm start`
// starts it, a user logged in through the embedded dev IdP's login form, the session JSON served,
// and an upstream request forwarded with the Bearer token (test/harness/stack.ts wires it all on
// free ports). The full suites are `npm run test:integration` and `npm run test:e2e`.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';

describe('smoke: log in through the dev IdP against the production build', { timeout: 120_000 }, () => {
  let stack: Stack;
  const browser = new Browser();
  before(async () => {
    stack = await startStack();
    await loginViaIdp(browser, stack.appUrl, { login: 'smoke-user', redirect: '/' });
  });
  after(() => stack?.close());

  test('/oauth2/session describes the logged-in user and never a token', async () => {
    const res = await browser.get(`${stack.appUrl}/oauth2/session`);
    assert.equal(res.status, 200);
    const body = await res.text();
    const session = JSON.parse(body) as { session: { active: boolean }; user: { sub: string } };
    assert.equal(session.session.active, true);
    assert.equal(session.user.sub, 'smoke-user');
    assert.doesNotMatch(body, /access_token|refresh_token|id_token/);
  });

  test('an upstream request carries the Bearer token', async () => {
    const res = await browser.get(`${stack.appUrl}/api/me`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.match(String(stack.upstream.last('/me')?.headers.authorization), /^Bearer \S+$/);
  });

  test('without a session the upstream gets no Authorization header', async () => {
    const res = await new Browser().get(`${stack.appUrl}/api/anonymous`, { headers: { authorization: 'Bearer forged' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(stack.upstream.last('/anonymous')?.headers.authorization, undefined);
  });
});
