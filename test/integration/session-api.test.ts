// The session API for single-page apps (SPEC §3): GET /oauth2/session and POST
// /oauth2/session/refresh, against the production build, the dev IdP and (for the Redis store) a
// real redis-server. Both stores run the same scenarios.
//
// The IdP issues 6-second access tokens: the refresh cooldown is then half their lifetime (3 s,
// SPEC §3), so "outside the cooldown" is a short, polled wait instead of a minute.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/session-api.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Idp } from '../../dev/idp';
import { Browser, FETCH_HEADERS, httpRequest, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { SESSION_COOKIE, STORES, apiCall, assertNoStore, lastIssued, recordIssuedTokens, type Issued } from './support';

const TOKEN_TTL_SECONDS = 6;
const INACTIVITY_SECONDS = 30;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ZERO_TIME = '0001-01-01T00:00:00Z';
/** A JWT (header.payload.signature) anywhere in a text. */
const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/;

interface SessionJson {
  session: { created_at: string; ends_at: string; timeout_at: string; ends_in_seconds: number; active: boolean; timeout_in_seconds: number };
  tokens: { expire_at: string; refreshed_at: string; expire_in_seconds: number; next_auto_refresh_in_seconds: number; refresh_cooldown: boolean; refresh_cooldown_seconds: number };
  user: Record<string, unknown>;
}

/** The IdP ends the grant behind a refresh token, as when a user revokes access at the IdP. */
async function revokeGrantAtIdp(idp: Idp, refreshToken: string): Promise<void> {
  const provider = idp.provider as unknown as {
    RefreshToken: { find(value: string): Promise<{ grantId?: string } | undefined> };
    Grant: { find(id: string): Promise<{ destroy(): Promise<void> } | undefined> };
  };
  const token = await provider.RefreshToken.find(refreshToken);
  assert.ok(token?.grantId, 'the IdP should know the session\'s refresh token');
  const grant = await provider.Grant.find(token.grantId);
  assert.ok(grant, 'the IdP should hold the grant');
  await grant.destroy();
}

async function getSession(browser: Browser, appUrl: string): Promise<{ status: number; headers: Headers; text: string; json?: SessionJson }> {
  const res = await browser.get(`${appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.status === 200 ? (JSON.parse(text) as SessionJson) : undefined };
}

async function postRefresh(browser: Browser, appUrl: string): Promise<{ status: number; headers: Headers; text: string; json?: SessionJson }> {
  const res = await browser.request(`${appUrl}/oauth2/session/refresh`, { method: 'POST', headers: FETCH_HEADERS });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.status === 200 ? (JSON.parse(text) as SessionJson) : undefined };
}

/** One API call through Gatehouse; returns the Bearer token the upstream received, if any. */
const apiBearer = async (browser: Browser, appUrl: string): Promise<string | undefined> => (await apiCall(browser, appUrl)).bearer;

/** Polls the session JSON until it is outside the refresh cooldown. */
function outsideCooldown(browser: Browser, appUrl: string): Promise<SessionJson> {
  return eventually('the refresh cooldown to end', (TOKEN_TTL_SECONDS + 5) * 1000, async () => {
    const s = await getSession(browser, appUrl);
    assert.equal(s.status, 200, s.text);
    return s.json!.tokens.refresh_cooldown ? undefined : s.json;
  });
}

for (const store of STORES) {
  describe(`session API (${store.name})`, () => {
    let stack: Stack;
    let issued: Issued[];
    let appUrl: string;

    before(async () => {
      stack = await startStack({
        redis: store.redis,
        idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS },
        env: { SESSION_INACTIVITY_TIMEOUT: `${INACTIVITY_SECONDS}s` },
      });
      appUrl = stack.app.url;
      issued = recordIssuedTokens(stack.idp);
    });
    after(async () => {
      await stack?.close();
    });

    test('GET /oauth2/session: 200 with the session JSON in Wonderwall order, the user, and no token', async () => {
      const browser = new Browser();
      const loginStarted = Date.now();
      await loginViaIdp(browser, appUrl);
      const tokens = lastIssued(issued, 'authorization_code');
      assert.ok(tokens?.access_token && tokens.refresh_token && tokens.id_token, 'the IdP issued access, refresh and id tokens');
      // The session really holds these tokens: the API receives that access token.
      assert.equal(await apiBearer(browser, appUrl), tokens.access_token);

      const s = await getSession(browser, appUrl);
      assert.equal(s.status, 200, s.text);
      assert.match(s.headers.get('content-type') ?? '', /^application\/json/);
      assertNoStore(s.headers.get('cache-control'), 'GET /oauth2/session');
      const body = s.json!;
      assert.deepEqual(Object.keys(body), ['session', 'tokens', 'user']);
      assert.deepEqual(Object.keys(body.session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds']);
      assert.deepEqual(Object.keys(body.tokens), ['expire_at', 'refreshed_at', 'expire_in_seconds', 'next_auto_refresh_in_seconds', 'refresh_cooldown', 'refresh_cooldown_seconds']);

      for (const at of [body.session.created_at, body.session.ends_at, body.session.timeout_at, body.tokens.expire_at, body.tokens.refreshed_at]) {
        assert.match(at, RFC3339);
      }
      const created = Date.parse(body.session.created_at);
      assert.ok(created >= loginStarted - 1000 && created <= Date.now(), `created_at ${body.session.created_at}`);
      assert.equal(Date.parse(body.session.ends_at) - created, 10 * 3600 * 1000, 'default SESSION_MAX_LIFETIME is 10h');
      assert.ok(body.session.ends_in_seconds > 10 * 3600 - 60 && body.session.ends_in_seconds <= 10 * 3600);
      assert.equal(body.session.active, true);
      assert.ok(body.session.timeout_in_seconds > INACTIVITY_SECONDS - 10 && body.session.timeout_in_seconds <= INACTIVITY_SECONDS, `timeout_in_seconds ${body.session.timeout_in_seconds}`);
      assert.ok(body.tokens.expire_in_seconds >= 0 && body.tokens.expire_in_seconds <= TOKEN_TTL_SECONDS, `expire_in_seconds ${body.tokens.expire_in_seconds}`);
      assert.equal(typeof body.tokens.refresh_cooldown, 'boolean');

      assert.equal(body.user.sub, 'alice');
      assert.equal(body.user.name, 'Alice Demo');
      assert.equal(body.user.email, 'alice@example.com');
      for (const key of Object.keys(body.user)) assert.doesNotMatch(key, /token/i, `user.${key} looks like a token field`);
      for (const [kind, value] of [['access', tokens.access_token], ['refresh', tokens.refresh_token], ['id', tokens.id_token]] as const) {
        assert.ok(!s.text.includes(value), `the ${kind} token appears in the session JSON`);
      }
      assert.doesNotMatch(s.text, JWT, 'the session JSON contains a JWT');
    });

    test('GET /oauth2/session: 401 without a session, also with a cookie that is not ours', async () => {
      const none = await getSession(new Browser(), appUrl);
      assert.equal(none.status, 401, none.text);
      assert.equal((JSON.parse(none.text) as { error: string }).error, 'unauthenticated');

      const forged = new Browser();
      forged.setCookie(appUrl, SESSION_COOKIE, 'Fe26.2**not-a-seal**x');
      assert.equal((await getSession(forged, appUrl)).status, 401);
    });

    test('inactivity timeout: timeout_at is set and an authenticated API request moves it forward', async () => {
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const first = (await getSession(browser, appUrl)).json!;
      assert.notEqual(first.session.timeout_at, ZERO_TIME);
      const t0 = Date.parse(first.session.timeout_at);
      assert.ok(t0 > Date.now(), 'timeout_at lies ahead');

      // The app records activity at most every few seconds (a store write each): keep using the API
      // until timeout_at has moved.
      const moved = await eventually('timeout_at to move forward', 10_000, async () => {
        assert.ok(await apiBearer(browser, appUrl), 'the API call is authenticated');
        const s = await getSession(browser, appUrl);
        assert.equal(s.status, 200, s.text);
        return Date.parse(s.json!.session.timeout_at) > t0 ? s.json! : undefined;
      });
      assert.ok(Date.parse(moved.session.timeout_at) - t0 >= 1000, `timeout_at moved by ${Date.parse(moved.session.timeout_at) - t0} ms`);
      assert.ok(moved.session.timeout_in_seconds > INACTIVITY_SECONDS - 5, `timeout_in_seconds ${moved.session.timeout_in_seconds}`);
      assert.equal(moved.session.active, true);
    });

    test('POST /oauth2/session/refresh refreshes at the IdP once, then answers from the cooldown', async () => {
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const before = await outsideCooldown(browser, appUrl);
      const grantsBefore = stack.idp.grants.refreshGrants;

      const first = await postRefresh(browser, appUrl);
      assert.equal(first.status, 200, first.text);
      assertNoStore(first.headers.get('cache-control'), 'POST /oauth2/session/refresh');
      assert.equal(stack.idp.grants.refreshGrants, grantsBefore + 1, 'one refresh grant at the IdP');
      const refreshed = first.json!;
      assert.ok(Date.parse(refreshed.tokens.refreshed_at) > Date.parse(before.tokens.refreshed_at), 'refreshed_at moves');
      assert.equal(refreshed.tokens.refresh_cooldown, true);
      assert.ok(refreshed.tokens.refresh_cooldown_seconds > 0);
      assert.equal(refreshed.user.sub, 'alice');
      assert.doesNotMatch(first.text, JWT);
      const newTokens = lastIssued(issued, 'refresh_token');
      assert.ok(newTokens?.access_token && !first.text.includes(newTokens.access_token));

      const second = await postRefresh(browser, appUrl);
      assert.equal(second.status, 200, second.text);
      assert.equal(stack.idp.grants.refreshGrants, grantsBefore + 1, 'no second grant during the cooldown');
      const again = second.json!;
      assert.equal(again.tokens.refresh_cooldown, true);
      assert.equal(again.tokens.refreshed_at, refreshed.tokens.refreshed_at);
      assert.equal(again.tokens.expire_at, refreshed.tokens.expire_at);
      assert.deepEqual(
        { ...again.session, ends_in_seconds: 0, timeout_in_seconds: 0, timeout_at: '' },
        { ...refreshed.session, ends_in_seconds: 0, timeout_in_seconds: 0, timeout_at: '' },
      );
      assert.deepEqual(again.user, refreshed.user);
      assert.equal(await apiBearer(browser, appUrl), newTokens.access_token, 'the API now receives the new access token');
    });

    test('POST /oauth2/session/refresh: 401 without a session', async () => {
      const res = await postRefresh(new Browser(), appUrl);
      assert.equal(res.status, 401, res.text);
    });

    test('POST /oauth2/session/refresh: 401 once the IdP rejects the refresh token, and the session is over', async () => {
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const tokens = lastIssued(issued, 'authorization_code')!;
      const cookie = browser.cookie(appUrl, SESSION_COOKIE)!.value;
      await outsideCooldown(browser, appUrl);
      await revokeGrantAtIdp(stack.idp, tokens.refresh_token!);
      const errorsBefore = stack.idp.grants.refreshGrantErrors;

      const res = await postRefresh(browser, appUrl);
      assert.equal(res.status, 401, res.text);
      assert.equal(stack.idp.grants.refreshGrantErrors, errorsBefore + 1);
      assert.equal(stack.idp.grantLog.at(-1)?.error, 'invalid_grant');

      assert.equal((await getSession(browser, appUrl)).status, 401);
      assert.equal(await apiBearer(browser, appUrl), undefined, 'no Bearer after the session ended');
      // Also the cookie as it was before: the session is ended in the store, not only in this browser.
      const replay = new Browser();
      replay.setCookie(appUrl, SESSION_COOKIE, cookie);
      assert.equal((await getSession(replay, appUrl)).status, 401);
      assert.equal(await apiBearer(replay, appUrl), undefined);
    });

    test('GET and PUT /oauth2/session/refresh: 405', async () => {
      for (const method of ['GET', 'PUT']) {
        const res = await httpRequest(`${appUrl}/oauth2/session/refresh`, { method, headers: FETCH_HEADERS });
        await res.body?.cancel();
        assert.equal(res.status, 405, `${method} /oauth2/session/refresh`);
      }
    });

    test('SESSION_MAX_LIFETIME: once it has passed there is no session anywhere', async () => {
      await stack.restartApp({ SESSION_MAX_LIFETIME: '5s', SESSION_INACTIVITY_TIMEOUT: '' });
      const browser = new Browser();
      await loginViaIdp(browser, appUrl);
      const cookie = browser.cookie(appUrl, SESSION_COOKIE)!.value;
      const s = (await getSession(browser, appUrl)).json!;
      assert.equal(Date.parse(s.session.ends_at) - Date.parse(s.session.created_at), 5000);
      assert.equal(s.session.timeout_at, ZERO_TIME, 'no inactivity timeout: zero time');
      assert.equal(s.session.timeout_in_seconds, -1);
      assert.ok(await apiBearer(browser, appUrl), 'authenticated before the end');

      await eventually('the API to lose the Bearer', 10_000, async () => (await apiBearer(browser, appUrl)) === undefined);
      assert.ok(Date.now() >= Date.parse(s.session.ends_at), 'the Bearer stopped only after ends_at');
      // SPEC §3: /oauth2/session answers 401, or 200 with `active: false` while the cookie still
      // names the ended session; either way nothing may be refreshed.
      const ended = await getSession(browser, appUrl);
      assert.ok(ended.status === 401 || (ended.status === 200 && ended.json!.session.active === false), `after ends_at: ${ended.status} ${ended.text}`);
      assert.equal((await postRefresh(browser, appUrl)).status, 401);

      // The same cookie, replayed later (after its Max-Age): still no session for forwarding or refresh.
      const replay = new Browser();
      replay.setCookie(appUrl, SESSION_COOKIE, cookie);
      assert.equal(await apiBearer(replay, appUrl), undefined);
      const info = await getSession(replay, appUrl);
      assert.ok(info.status === 401 || (info.status === 200 && info.json!.session.active === false), `replayed expired cookie: ${info.status} ${info.text}`);
      assert.equal((await postRefresh(replay, appUrl)).status, 401);
    });
  });
}
