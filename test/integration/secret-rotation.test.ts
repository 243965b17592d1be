// SESSION_SECRET rotation (SPEC §2: a comma-separated list, the first seals, all unseal), against
// the production build restarted with new secrets, the dev IdP and, for the Redis store, a real
// redis-server that keeps its data across the restarts.
//
//   A      → log in (cookie sealed with A)
//   B,A    → the A session still works; a new login is sealed with B
//   B      → the A session is no session (401, never a 500); the B session and new logins work
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/secret-rotation.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { testSecret } from '../harness/env';
import { startStack, type Stack } from '../harness/stack';
import { STORES, sessionCookies } from './support';

interface State { session: number; user?: string; apiStatus: number; bearer?: string; refresh: number }

/** What `browser` gets from the app: /oauth2/session, an API call, and POST /oauth2/session/refresh. */
async function state(browser: Browser, appUrl: string): Promise<State> {
  const s = await browser.get(`${appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
  const sText = await s.text();
  const api = await browser.get(`${appUrl}/api/whoami`, { headers: FETCH_HEADERS });
  const apiText = await api.text();
  const auth = api.status === 200 ? (JSON.parse(apiText) as { headers: Record<string, string | undefined> }).headers.authorization : undefined;
  const r = await browser.request(`${appUrl}/oauth2/session/refresh`, { method: 'POST', headers: FETCH_HEADERS });
  await r.body?.cancel();
  return {
    session: s.status,
    user: s.status === 200 ? (JSON.parse(sText) as { user: { sub: string } }).user.sub : undefined,
    apiStatus: api.status,
    bearer: auth?.replace(/^Bearer /, ''),
    refresh: r.status,
  };
}

/** A browser holding exactly these session cookies (a cookie as it was at some earlier moment). */
function browserWith(appUrl: string, cookies: Array<[string, string]>): Browser {
  const b = new Browser();
  for (const [name, value] of cookies) b.setCookie(appUrl, name, value);
  return b;
}

for (const store of STORES) {
  describe(`SESSION_SECRET rotation (${store.name})`, () => {
    const A = testSecret();
    const B = testSecret();
    let stack: Stack;

    before(async () => {
      stack = await startStack({ redis: store.redis, env: { SESSION_SECRET: A } });
    });
    after(async () => {
      await stack?.close();
    });

    test('A → B,A keeps sessions; B alone ends the A sessions cleanly; B sessions and new logins work', async () => {
      const appUrl = stack.app.url;
      // Under A.
      const alice = new Browser();
      await loginViaIdp(alice, appUrl, { login: 'alice' });
      const sealedWithA = sessionCookies(alice, appUrl);
      assert.ok(sealedWithA.length > 0, 'a session cookie was set');
      const underA = await state(browserWith(appUrl, sealedWithA), appUrl);
      assert.equal(underA.session, 200);
      assert.ok(underA.bearer, 'authenticated under A');

      // Under B,A: the A cookie still unseals.
      await stack.restartApp({ SESSION_SECRET: `${B},${A}` });
      const rotated = await state(browserWith(appUrl, sealedWithA), appUrl);
      assert.deepEqual(
        { session: rotated.session, user: rotated.user, apiStatus: rotated.apiStatus, bearer: rotated.bearer },
        { session: 200, user: 'alice', apiStatus: 200, bearer: underA.bearer },
        'the session sealed with A works under B,A',
      );
      assert.notEqual(rotated.refresh, 401, 'the A session can still be refreshed under B,A');
      const bob = new Browser();
      await loginViaIdp(bob, appUrl, { login: 'bob' });
      const sealedUnderBA = sessionCookies(bob, appUrl);
      assert.equal((await state(bob, appUrl)).session, 200, 'a new login under B,A works');

      // Under B alone: the A cookie is no session, and no error either.
      await stack.restartApp({ SESSION_SECRET: B });
      const old = await state(browserWith(appUrl, sealedWithA), appUrl);
      assert.deepEqual(old, { session: 401, user: undefined, apiStatus: 200, bearer: undefined, refresh: 401 }, 'the A session is no session under B');

      const bobLater = await state(browserWith(appUrl, sealedUnderBA), appUrl);
      assert.equal(bobLater.session, 200, 'a login made under B,A was sealed with B (the first secret)');
      assert.equal(bobLater.user, 'bob');
      assert.ok(bobLater.bearer);

      const carol = new Browser();
      await loginViaIdp(carol, appUrl, { login: 'carol' });
      const fresh = await state(carol, appUrl);
      assert.equal(fresh.session, 200, 'a new login under B works');
      assert.equal(fresh.user, 'carol');
      assert.ok(fresh.bearer);
      assert.equal(stack.app.logs.filter((l) => /"level":"error"/.test(l)).length, 0, `no error logged:\n${stack.app.logs.filter((l) => /"level":"error"/.test(l)).join('\n')}`);
    });
  });
}
