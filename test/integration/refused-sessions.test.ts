// Stored sessions that the configuration of a restarted process no longer admits (SPEC §12),
// against the production build: a session whose identity provider was removed is no session on
// every path, and a session the new access rules refuse is neither shown, nor refreshed at the
// IdP, nor forwarded.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/refused-sessions.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type App } from '../harness/app';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { startProvidersStack, type ProvidersStack } from '../harness/providers-stack';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { callApp, loginFresh } from './support';

/** Short tokens: after half their lifetime (the refresh cooldown) every request refreshes first. */
const TOKEN_TTL_SECONDS = 4;

const fetchAs = async (browser: Browser, url: string, init: RequestInit = {}) => {
  const res = await browser.request(url, { ...init, headers: { ...FETCH_HEADERS, ...init.headers } });
  return { status: res.status, body: await res.text(), headers: res.headers };
};

describe('a session whose identity provider is no longer configured', { timeout: 180_000 }, () => {
  let stack: ProvidersStack;
  let app: App | undefined;
  const browsers: Record<'corp' | 'partner', Browser> = { corp: new Browser(), partner: new Browser() };
  before(async () => {
    stack = await startProvidersStack({ redis: true });
    for (const provider of ['corp', 'partner'] as const) {
      await loginViaIdp(browsers[provider], stack.appUrl, { query: { provider }, login: 'alice', stopAfterCallback: true });
      assert.equal((await fetchAs(browsers[provider], `${stack.appUrl}/api/before`)).status, 200);
    }
    // The operator drops partner: the same process, restarted with corp alone.
    await stack.app.stop();
    app = await startApp({ ...stack.env, IDENTITY_PROVIDERS: 'corp' }, { port: stack.app.port });
  }, { timeout: 120_000 });
  after(async () => {
    await app?.stop();
    await stack?.close();
  });

  test('upstream route (AUTO_LOGIN off): forwarded as a request without a session, no Bearer', async () => {
    const since = stack.upstream.requests.length;
    const res = await fetchAs(browsers.partner, `${stack.appUrl}/api/after`);
    assert.equal(res.status, 200);
    const seen = stack.upstream.requests.slice(since);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].headers.authorization, undefined, 'the removed provider\'s token never reaches the upstream');
  });

  test('/oauth2/auth: 401, no Bearer', async () => {
    const res = await fetchAs(browsers.partner, `${stack.appUrl}/oauth2/auth`, { headers: { 'X-Original-URI': '/x' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('authorization'), null);
  });

  test('/oauth2/session: 401', async () => {
    assert.equal((await fetchAs(browsers.partner, `${stack.appUrl}/oauth2/session`)).status, 401);
  });

  test('a session of the provider still configured goes on as before', async () => {
    const since = stack.upstream.requests.length;
    assert.equal((await fetchAs(browsers.corp, `${stack.appUrl}/api/after`)).status, 200);
    assert.match(String(stack.upstream.requests.slice(since).at(-1)?.headers.authorization), /^Bearer \S+$/);
    assert.equal((await fetchAs(browsers.corp, `${stack.appUrl}/oauth2/session`)).status, 200);
  });
});

describe('a session the access rules of a restarted process refuse', { timeout: 180_000 }, () => {
  let stack: Stack;
  const cookies: Record<string, string> = {};
  before(async () => {
    stack = await startStack({
      idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS, accountClaims: (login) => ({ groups: login === 'alice' ? ['admins'] : ['staff'] }) },
    });
    // bob first: once alice's tokens are due, bob's (older) are too.
    cookies.bob = (await loginFresh(stack.appUrl, 'bob')).cookie;
    cookies.alice = (await loginFresh(stack.appUrl, 'alice')).cookie;
    await stack.restartApp({ ALLOWED_GROUPS: 'admins' });
    const before = stack.idp.grants.refreshGrants;
    await eventually('alice\'s tokens due: a request refreshes them first', 20_000, async () => {
      const res = await callApp(stack.appUrl, '/api/due', cookies.alice);
      assert.equal(res.status, 200);
      const set = res.headers.get('set-cookie');
      // The cookie store hands back the refreshed session; keep the browser's copy current.
      if (set) cookies.alice = set.split(';', 1)[0];
      return stack.idp.grants.refreshGrants > before;
    });
  }, { timeout: 120_000 });
  after(() => stack?.close());

  test('upstream route: 403, no refresh grant for its tokens, the upstream never sees it', async () => {
    const grants = stack.idp.grants.refreshGrants;
    const since = stack.upstream.requests.length;
    const res = await callApp(stack.appUrl, '/api/data', cookies.bob);
    assert.equal(res.status, 403);
    assert.equal(stack.idp.grants.refreshGrants, grants, 'a refused session is not refreshed');
    assert.equal(stack.upstream.requests.length, since);
  });

  test('/oauth2/auth: 403, no refresh grant', async () => {
    const grants = stack.idp.grants.refreshGrants;
    const res = await callApp(stack.appUrl, '/oauth2/auth', cookies.bob);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('authorization'), null);
    assert.equal(stack.idp.grants.refreshGrants, grants);
  });

  test('/oauth2/session: 403 JSON, the person is not shown', async () => {
    const res = await callApp(stack.appUrl, '/oauth2/session', cookies.bob);
    assert.equal(res.status, 403);
    assert.equal(res.json().error, 'forbidden');
    assert.doesNotMatch(res.text, /bob/);
  });

  test('POST /oauth2/session/refresh: 403, and the IdP sees no refresh grant', async () => {
    const grants = stack.idp.grants.refreshGrants;
    const res = await callApp(stack.appUrl, '/oauth2/session/refresh', cookies.bob, 'POST');
    assert.equal(res.status, 403);
    assert.equal(res.json().error, 'forbidden');
    assert.equal(stack.idp.grants.refreshGrants, grants);
  });

  test('an admitted session is still shown', async () => {
    const res = await callApp(stack.appUrl, '/oauth2/session', cookies.alice);
    assert.equal(res.status, 200);
    assert.equal(res.json().user.sub, 'alice');
  });
});
