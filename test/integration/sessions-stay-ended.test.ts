// Ended sessions stay ended (issue 7 item 5, SPEC §5), against the production build, the dev IdP
// and a real redis-server:
// - a refresh that is in flight while the session is logged out (local logout, back-channel,
//   front-channel) must not write the session back to Redis, on one replica and across two;
// - past SESSION_MAX_LIFETIME a session is gone in both stores (401, no Bearer, cookie cleared),
//   while an inactive session that is still stored (cookie store) answers 200 with `active:false`.
//
// The race is made deterministic by the dev IdP holding the refresh request (holdTokenRequests)
// until the logout has been answered; the test waits for the IdP to hold it, never sleeps.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/sessions-stay-ended.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseCookies } from '../../lib/http/cookies';
import { redisKeys } from '../../lib/session/redis-store';
import { readSessionCookie } from '../../lib/session/session-cookie';
import { startApp, type App } from '../harness/app';
import { httpRequest } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { SESSION_COOKIE, STORES, callApp, cookieNameValue, loginFresh, type Call } from './support';

const TOKEN_TTL_SECONDS = 6;

interface LoggedIn {
  /** The Cookie header of the browser, replayed as a copied cookie. */
  cookie: string;
  sub: string;
  sid: string;
  /** The Redis key of the session (Redis store). */
  key: string;
}

async function login(stack: Stack, sub: string): Promise<LoggedIn> {
  const { cookie } = await loginFresh(stack.appUrl, sub);
  const sid = stack.idp.lastSid(sub);
  assert.ok(sid, 'the IdP knows the sid of the login');
  const payload = await readSessionCookie(parseCookies(cookie), 'gatehouse', stack.env.SESSION_SECRET.split(','), 3600);
  return { cookie, sub, sid, key: payload?.t === 'ticket' ? redisKeys.session(payload.id) : '' };
}

/** Every session key on the test's own redis-server. */
const sessionKeys = async (stack: Stack): Promise<string[]> => (await stack.redis!.client().keys('gh:{*}:session')).sort();

/** Polls /oauth2/session (which never refreshes) until the session is due for a refresh. */
async function untilRefreshDue(appUrl: string, cookie: string): Promise<void> {
  await eventually('the refresh cooldown to end', (TOKEN_TTL_SECONDS + 5) * 1000, async () => {
    const s = await callApp(appUrl, '/oauth2/session', cookie);
    assert.equal(s.status, 200, `the session should still exist: ${s.text}`);
    return !s.json().tokens.refresh_cooldown;
  });
}

/** The Authorization the upstream received for `/api/me` with this cookie, and the answer. */
async function apiMe(stack: Stack, appUrl: string, cookie: string): Promise<{ call: Call; authorization: string | undefined }> {
  const since = stack.upstream.requests.length;
  const call = await callApp(appUrl, '/api/me', cookie);
  assert.equal(call.status, 200, `/api/me: ${call.status} ${call.text.slice(0, 200)}`);
  const received = stack.upstream.requests.slice(since).filter((r) => r.url === '/me');
  assert.equal(received.length, 1, 'the upstream received /me once');
  const auth = received[0].headers.authorization;
  return { call, authorization: typeof auth === 'string' ? auth : undefined };
}

/** The three ways a session ends while its refresh is in flight; each goes to `appUrl`. */
const LOGOUTS: Array<{ name: string; end(stack: Stack, appUrl: string, s: LoggedIn): Promise<void> }> = [
  {
    name: 'GET /oauth2/logout/local with the same cookie',
    async end(_stack, appUrl, s) {
      const res = await callApp(appUrl, '/oauth2/logout/local', s.cookie);
      assert.equal(res.status, 204, res.text);
    },
  },
  {
    name: 'back-channel logout from the IdP',
    async end(stack, _appUrl, s) {
      // Delivered by oidc-provider to the registered back-channel URI (the stack's app); resolves on 200.
      await stack.idp.backchannelLogout({ clientId: stack.client.clientId, sub: s.sub, sid: s.sid });
    },
  },
  {
    name: 'front-channel logout with the session sid',
    async end(stack, appUrl, s) {
      const res = await httpRequest(`${appUrl}/oauth2/logout/frontchannel?${new URLSearchParams({ iss: stack.idp.issuer, sid: s.sid })}`, { headers: { accept: 'text/html' } });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    },
  },
];

/**
 * Starts an API request on `refreshOn` that refreshes, holds that refresh at the IdP, ends the
 * session through `logout` at `logoutOn`, releases the refresh, and checks the session stayed ended.
 */
async function raceRefreshWithLogout(stack: Stack, refreshOn: string, logoutOn: string, logout: (typeof LOGOUTS)[number], sub: string): Promise<void> {
  const { idp } = stack;
  const s = await login(stack, sub);
  assert.ok((await sessionKeys(stack)).includes(s.key), 'the session is stored in Redis');
  await untilRefreshDue(refreshOn, s.cookie);

  const grants = idp.grants.refreshGrants;
  const release = idp.holdTokenRequests();
  let inFlight: Promise<Call> | undefined;
  try {
    inFlight = callApp(refreshOn, '/api/in-flight', s.cookie);
    await eventually('the IdP to hold the refresh request', 5_000, () => idp.heldTokenRequests === 1);
    await logout.end(stack, logoutOn, s);
    assert.ok(!(await sessionKeys(stack)).includes(s.key), 'the logout deleted the session key');
  } finally {
    release();
  }
  const answer = await inFlight;
  assert.equal(answer.status, 200, `the request whose refresh was held: ${answer.status} ${answer.text.slice(0, 200)}`);
  assert.equal(idp.grants.refreshGrants, grants + 1, 'the held refresh did succeed at the IdP (the race happened)');

  const keys = await sessionKeys(stack);
  assert.ok(!keys.includes(s.key), `the refresh wrote the ended session back to Redis: ${s.key} in ${keys.join(', ')}`);
  for (const appUrl of new Set([refreshOn, logoutOn])) {
    const info = await callApp(appUrl, '/oauth2/session', s.cookie);
    assert.equal(info.status, 401, `copied cookie on ${appUrl}/oauth2/session: ${info.status} ${info.text.slice(0, 200)}`);
    const api = await apiMe(stack, appUrl, s.cookie);
    assert.equal(api.authorization, undefined, `copied cookie on ${appUrl}/api/me: the upstream got ${api.authorization}`);
  }
  assert.ok(!(await sessionKeys(stack)).includes(s.key), 'still no session key after the replays');
}

describe('a refresh in flight never brings a logged-out session back (Redis store)', () => {
  let stack: Stack;
  let replica: App;

  before(async () => {
    stack = await startStack({ redis: true, idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS }, env: { SESSION_REFRESH_BEFORE: '30s' } });
    // A second Gatehouse process on the same Redis (SESSION_SECRET and the rest shared).
    replica = await startApp(stack.env, { port: await freePort() });
  });
  after(async () => {
    await replica?.stop();
    await stack?.close();
  });

  for (const [i, logout] of LOGOUTS.entries()) {
    test(`one replica: ${logout.name} while the refresh is held`, () => raceRefreshWithLogout(stack, stack.appUrl, stack.appUrl, logout, `single-${i}`));
  }
  for (const [i, logout] of LOGOUTS.entries()) {
    // The refresh runs on the replica; the logout reaches the other process (where the IdP delivers).
    test(`two replicas: refresh held on one, ${logout.name} through the other`, () => raceRefreshWithLogout(stack, replica.url, stack.appUrl, logout, `pair-${i}`));
  }
});

/** True when one of the Set-Cookie lines expires the session cookie on the path it was set with. */
function clearsSessionCookie(headers: Headers): boolean {
  return headers.getSetCookie().some((line) => {
    if (cookieNameValue(line)[0] !== SESSION_COOKIE) return false;
    const attrs = line.split(';').slice(1).map((a) => a.trim());
    const path = attrs.find((a) => /^path=/i.test(a))?.slice(5);
    const maxAgeGone = attrs.some((a) => /^max-age\s*=\s*(0|-\d+)$/i.test(a));
    const expiresGone = attrs.some((a) => /^expires\s*=/i.test(a) && Date.parse(a.slice(a.indexOf('=') + 1)) <= Date.now());
    return path === '/' && (maxAgeGone || expiresGone);
  });
}

for (const store of STORES) {
  describe(`session lifetime and inactivity (${store.name})`, () => {
    let stack: Stack;

    before(async () => {
      stack = await startStack({ redis: store.redis, env: { SESSION_MAX_LIFETIME: '5s' } });
    });
    after(async () => {
      await stack?.close();
    });

    test('past SESSION_MAX_LIFETIME: 401 on /oauth2/session, no Bearer upstream, and both answers clear the cookie', async () => {
      const s = await login(stack, 'lifetime');
      const info = await callApp(stack.appUrl, '/oauth2/session', s.cookie);
      assert.equal(info.status, 200, info.text);
      const endsAt = Date.parse(info.json().session.ends_at);
      assert.ok((await apiMe(stack, stack.appUrl, s.cookie)).authorization, 'a Bearer before ends_at');

      await eventually('ends_at to pass', 15_000, () => Date.now() > endsAt);

      const ended = await callApp(stack.appUrl, '/oauth2/session', s.cookie);
      assert.equal(ended.status, 401, `GET /oauth2/session after ends_at: ${ended.status} ${ended.text.slice(0, 300)}`);
      assert.ok(clearsSessionCookie(ended.headers), `/oauth2/session should clear the session cookie; Set-Cookie: ${JSON.stringify(ended.headers.getSetCookie())}`);

      const api = await apiMe(stack, stack.appUrl, s.cookie);
      assert.equal(api.authorization, undefined, 'the upstream got a Bearer after ends_at');
      assert.ok(clearsSessionCookie(api.call.headers), `/api/me should clear the session cookie; Set-Cookie: ${JSON.stringify(api.call.headers.getSetCookie())}`);
      if (store.redis) assert.ok(!(await sessionKeys(stack)).includes(s.key), 'no session key in Redis after ends_at');
    });

    // The cookie store keeps an idle session (the cookie is the store); Redis expires the key at
    // the idle deadline (SPEC §5: the TTL follows the inactivity timeout), so there it is gone.
    test(store.redis ? 'idle past the timeout: the key expired, so 401 and the cookie cleared' : 'inactive but still stored: 200 with active:false, and no Bearer upstream', async () => {
      await stack.restartApp({ SESSION_MAX_LIFETIME: '10h', SESSION_INACTIVITY_TIMEOUT: '5s' });
      const s = await login(stack, 'idle');
      const info = await callApp(stack.appUrl, '/oauth2/session', s.cookie);
      assert.equal(info.status, 200, info.text);
      assert.equal(info.json().session.active, true);
      const timeoutAt = Date.parse(info.json().session.timeout_at);

      // /oauth2/session does not count as activity, so nothing moves timeout_at while we wait.
      await eventually('timeout_at to pass', 15_000, () => Date.now() > timeoutAt);

      const idle = await callApp(stack.appUrl, '/oauth2/session', s.cookie);
      if (store.redis) {
        assert.ok(!(await sessionKeys(stack)).includes(s.key), 'the session key outlived the idle deadline');
        assert.equal(idle.status, 401, idle.text);
        assert.ok(clearsSessionCookie(idle.headers), `Set-Cookie: ${JSON.stringify(idle.headers.getSetCookie())}`);
      } else {
        assert.equal(idle.status, 200, `GET /oauth2/session after timeout_at: ${idle.status} ${idle.text.slice(0, 300)}`);
        assert.equal(idle.json().session.active, false, idle.text);
      }
      assert.equal((await apiMe(stack, stack.appUrl, s.cookie)).authorization, undefined, 'an inactive session gives no Bearer');
    });
  });
}
