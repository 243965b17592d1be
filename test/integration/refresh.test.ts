// Automatic token refresh on upstream requests (SPEC §4 item 1, §5 "Refresh"), against the
// production build, the dev IdP (rotating refresh tokens: a replayed one revokes the whole grant)
// and, for the Redis store, a real redis-server.
//
// Access tokens live 6 s and SESSION_REFRESH_BEFORE is 30 s, so a session is due for a refresh as
// soon as its cooldown (half the token lifetime: 3 s) has passed; tests poll for that moment.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/refresh.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Buffer } from 'node:buffer';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Idp } from '../../dev/idp';
import type { RecordedRequest } from '../../dev/upstream';
import { readSessionCookie } from '../../lib/session/session-cookie';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import {
  SESSION_COOKIE,
  STORES,
  apiCall,
  cookieNameValue,
  lastIssued,
  recordIssuedTokens,
  sessionCookiesSet,
  type ApiCall,
  type Issued,
} from './support';

const TOKEN_TTL_SECONDS = 6;
const PARALLEL = 20;

async function sessionStatus(browser: Browser, appUrl: string): Promise<{ status: number; json?: { tokens: { refresh_cooldown: boolean; refreshed_at: string } } }> {
  const res = await browser.get(`${appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
  const text = await res.text();
  return { status: res.status, json: res.status === 200 ? JSON.parse(text) : undefined };
}

/** Waits (polling /oauth2/session, which never refreshes) until the session is due for a refresh. */
async function untilRefreshDue(browser: Browser, appUrl: string): Promise<void> {
  await eventually('the refresh cooldown to end', (TOKEN_TTL_SECONDS + 5) * 1000, async () => {
    const s = await sessionStatus(browser, appUrl);
    assert.equal(s.status, 200, 'the session should still exist');
    return !s.json!.tokens.refresh_cooldown;
  });
}

/** True when the IdP accepts `token` as an access token (its userinfo endpoint answers 200). */
async function idpAccepts(idp: Idp, token: string): Promise<boolean> {
  const res = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status === 200;
}

/** Nothing Gatehouse keeps for the browser may reach the upstream. */
function assertNothingLeaked(requests: RecordedRequest[]): void {
  for (const r of requests) {
    const cookie = String(r.headers.cookie ?? '');
    assert.doesNotMatch(cookie, /gatehouse\./, `${r.url}: the upstream received a Gatehouse cookie`);
    for (let i = 0; i < r.rawHeaders.length; i += 2) {
      assert.doesNotMatch(r.rawHeaders[i], /^(set-cookie|x-middleware-set-cookie)$/i, `${r.url}: the upstream received ${r.rawHeaders[i]}`);
    }
  }
}

for (const store of STORES) {
  describe(`automatic refresh (${store.name})`, () => {
    let stack: Stack;
    let issued: Issued[];
    let appUrl: string;

    before(async () => {
      stack = await startStack({ redis: store.redis, idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS }, env: { SESSION_REFRESH_BEFORE: '30s' } });
      appUrl = stack.app.url;
      issued = recordIssuedTokens(stack.idp);
    });
    after(async () => {
      await stack?.close();
    });

    test(`${PARALLEL} parallel API requests of one session cause exactly one refresh grant`, async () => {
      const { idp, upstream } = stack;
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const oldToken = lastIssued(issued, 'authorization_code')!.access_token!;
      await untilRefreshDue(browser, appUrl);

      const grants = idp.grants.refreshGrants;
      const grantErrors = idp.grants.refreshGrantErrors;
      const since = upstream.requests.length;
      idp.delayTokenRequests(500); // every request arrives while the one refresh is still running
      let calls: ApiCall[];
      try {
        calls = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => apiCall(browser, appUrl, `/api/parallel/${i}`)));
      } finally {
        idp.delayTokenRequests(0);
      }

      assert.equal(idp.grants.refreshGrants, grants + 1, 'exactly one refresh grant');
      assert.equal(idp.grants.refreshGrantErrors, grantErrors, 'no refresh grant failed');
      const newToken = lastIssued(issued, 'refresh_token')!.access_token!;
      assert.notEqual(newToken, oldToken);
      const bearers = calls.map((c) => c.bearer);
      for (const [i, bearer] of bearers.entries()) {
        assert.ok(bearer === newToken || bearer === oldToken, `request ${i} carried ${bearer === undefined ? 'no Bearer' : 'an unknown token'}`);
      }
      assert.ok(bearers.includes(newToken), 'the refreshed token was used');
      for (const token of new Set(bearers)) assert.ok(await idpAccepts(idp, token!), 'every Bearer sent upstream is valid at the IdP');
      const forwarded = upstream.requests.slice(since);
      assert.equal(forwarded.length, PARALLEL);
      assertNothingLeaked(forwarded);

      if (!store.redis) {
        // The cookie store keeps the tokens in the cookie: the API response carries the new one.
        const jar = new Map(calls.flatMap((c) => sessionCookiesSet(c.headers).map(cookieNameValue)));
        assert.ok(jar.size > 0, 'the refreshed session reaches the browser as Set-Cookie on the API response');
        const payload = await readSessionCookie(jar, 'gatehouse', stack.env.SESSION_SECRET.split(','), 3600);
        assert.equal(payload?.t, 'inline');
        assert.equal(payload?.t === 'inline' && payload.s.tokens.accessToken, newToken, 'the Set-Cookie holds the refreshed tokens');
      }

      // The grant is alive (a replayed refresh token would have revoked it): the next refresh works too.
      await untilRefreshDue(browser, appUrl);
      const next = await apiCall(browser, appUrl);
      assert.equal(idp.grants.refreshGrants, grants + 2);
      assert.equal(idp.grants.refreshGrantErrors, grantErrors);
      const newest = lastIssued(issued, 'refresh_token')!.access_token!;
      assert.equal(next.bearer, newest);
      assert.ok(await idpAccepts(idp, newest));
    });

    test('a transient IdP failure keeps the old tokens and the session', async () => {
      const { idp } = stack;
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const oldToken = lastIssued(issued, 'authorization_code')!.access_token!;
      await untilRefreshDue(browser, appUrl);
      const grants = idp.grants.refreshGrants;

      const faults = () => idp.grantLog.filter((e) => e.type === 'injected-fault').length;
      const faultsBefore = faults();
      idp.failTokenRequests(2, 503);
      for (let i = 0; i < 2; i++) {
        const call = await apiCall(browser, appUrl);
        assert.equal(call.bearer, oldToken, `request ${i + 1} during the IdP outage goes out with the old token`);
        assert.equal(call.setCookies.filter((c) => c.startsWith(`${SESSION_COOKIE}=`) && /max-age=0/i.test(c)).length, 0, 'the session cookie is not cleared');
      }
      assert.equal(faults() - faultsBefore, 2, 'both requests tried to refresh and met the outage');
      assert.equal((await sessionStatus(browser, appUrl)).status, 200, 'the session stays');

      // Once the IdP answers again, a request gets fresh tokens.
      const fresh = await eventually('a refreshed token after the outage', 10_000, async () => {
        const call = await apiCall(browser, appUrl);
        return call.bearer !== oldToken && call;
      });
      assert.equal(fresh.bearer, lastIssued(issued, 'refresh_token')!.access_token);
      assert.equal(idp.grants.refreshGrants, grants + 1);
    });

    test('invalid_grant from the IdP ends the session', async () => {
      const { idp } = stack;
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const cookie = browser.cookie(appUrl, SESSION_COOKIE)!.value;
      await untilRefreshDue(browser, appUrl);

      idp.failTokenRequests(1, 400, { error: 'invalid_grant', error_description: 'grant revoked (injected by the test)' });
      const ending = await apiCall(browser, appUrl);
      assert.equal(ending.bearer, undefined, 'the request that found the grant dead goes out without a Bearer');
      assert.ok(
        ending.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && /max-age=0/i.test(c)),
        `the session cookie is cleared: ${ending.setCookies.join(' | ')}`,
      );

      const next = await apiCall(browser, appUrl);
      assert.equal(next.bearer, undefined);
      assert.equal((await sessionStatus(browser, appUrl)).status, 401);
      // The session is ended in the store, not only in this browser's jar.
      const replay = new Browser();
      replay.setCookie(appUrl, SESSION_COOKIE, cookie);
      assert.equal((await apiCall(replay, appUrl)).bearer, undefined);
      assert.equal((await sessionStatus(replay, appUrl)).status, 401);
    });
  });
}

for (const store of STORES) {
  describe(`refresh with an IdP that returns no refresh token (${store.name})`, () => {
    let stack: Stack;
    let issued: Issued[];
    const sentRefreshTokens: string[] = [];
    const refreshResponses: Array<Record<string, unknown>> = [];

    before(async () => {
      stack = await startStack({ redis: store.redis, idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS, rotateRefreshTokens: false } });
      issued = recordIssuedTokens(stack.idp);
      // Like many IdPs without rotation: the refresh response has no refresh_token at all. The
      // IdP's Koa chain is composed at startup, so the token response is edited from the
      // `grant.success` event, which fires synchronously after the body is built and before it is sent.
      stack.idp.provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
        if (ctx.oidc.params?.grant_type !== 'refresh_token') return;
        sentRefreshTokens.push(String(ctx.oidc.params.refresh_token));
        delete (ctx.body as Record<string, unknown>).refresh_token;
        // Record the body as it goes on the wire, to be sure the edit took effect.
        const end = ctx.res.end.bind(ctx.res) as (...args: unknown[]) => unknown;
        (ctx.res as unknown as { end: (...args: unknown[]) => unknown }).end = (...args: unknown[]) => {
          if (typeof args[0] === 'string' || Buffer.isBuffer(args[0])) refreshResponses.push(JSON.parse(String(args[0])) as Record<string, unknown>);
          return end(...args);
        };
      });
    });
    after(async () => {
      await stack?.close();
    });

    test('the old refresh token is kept and a second refresh still works', async () => {
      const { idp } = stack;
      const appUrl = stack.app.url;
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const login = lastIssued(issued, 'authorization_code')!;

      await untilRefreshDue(browser, appUrl);
      const first = await apiCall(browser, appUrl);
      assert.equal(idp.grants.refreshGrants, 1);
      assert.equal(refreshResponses.length, 1);
      assert.ok(refreshResponses[0].access_token, 'the refresh response carried an access token');
      assert.equal(refreshResponses[0].refresh_token, undefined, 'the refresh response carried no refresh token');
      assert.notEqual(first.bearer, login.access_token);
      assert.equal(first.bearer, lastIssued(issued, 'refresh_token')!.access_token);

      await untilRefreshDue(browser, appUrl);
      const second = await apiCall(browser, appUrl);
      assert.equal(idp.grants.refreshGrants, 2, 'the second refresh succeeded');
      assert.equal(idp.grants.refreshGrantErrors, 0);
      assert.deepEqual(sentRefreshTokens, [login.refresh_token, login.refresh_token], 'both refreshes used the refresh token from the login');
      assert.notEqual(second.bearer, first.bearer);
      assert.equal(second.bearer, lastIssued(issued, 'refresh_token')!.access_token);
      assert.ok(await idpAccepts(idp, second.bearer!));
    });
  });
}
