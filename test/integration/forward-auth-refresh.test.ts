// `/oauth2/auth` refreshes a session whose access token is due, through the same gate as every
// other request (SPEC §3, §5): the 202 carries the new token, and one refresh grant was made.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/forward-auth-refresh.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { callApp, loginFresh } from './support';

const TOKEN_TTL_SECONDS = 4;

for (const redis of [false, true]) {
  describe(`/oauth2/auth refreshes when due (${redis ? 'Redis' : 'cookie'} store)`, { timeout: 120_000 }, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({ redis, idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS }, env: { SESSION_REFRESH_BEFORE: '30s' } });
    }, { timeout: 90_000 });
    after(() => stack?.close());

    test('once the cooldown is over the 202 carries a new Bearer, from one refresh grant', async () => {
      let { cookie } = await loginFresh(stack.appUrl);
      const first = await callApp(stack.appUrl, '/oauth2/auth', cookie);
      assert.equal(first.status, 202);
      const before = first.headers.get('authorization');
      const grants = stack.idp.grants.refreshGrants;
      // The cooldown of a 4 s token is 2 s; ask until the gate refreshes (a condition, not a sleep).
      const refreshed = await eventually('a refreshed Bearer from /oauth2/auth', (TOKEN_TTL_SECONDS + 6) * 1000, async () => {
        const res = await callApp(stack.appUrl, '/oauth2/auth', cookie);
        assert.equal(res.status, 202);
        // A cookie-store session comes back re-sealed: keep it, as the proxy hands it to the browser.
        const set = res.headers.getSetCookie().map((c) => c.split(';', 1)[0]);
        if (set.length > 0) cookie = set.join('; ');
        return res.headers.get('authorization') !== before && res;
      });
      assert.match(refreshed.headers.get('authorization') ?? '', /^Bearer \S+$/);
      assert.equal(stack.idp.grants.refreshGrants, grants + 1);
      if (!redis) assert.ok(refreshed.headers.getSetCookie().some((c) => c.startsWith('gatehouse.session=')), 'the re-sealed cookie session is in the answer');
    });
  });
}
