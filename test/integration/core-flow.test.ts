// The core slice end to end (SPEC §3, §4, §5), against the production build, the real dev IdP, the
// recording upstream and (for the Redis store) a real redis-server. Every scenario runs for both
// session stores.
//
//   NEXT_DIST_DIR=.next-core node --import tsx --test test/integration/core-flow.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { Browser, loginViaIdp, logoutViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import {
  NAV, STORES, assertNoStore, headerPairs, openIdpLoginForm, rawRequest, rawValues, sessionCookies,
  sessionCookiesSet, startLogin, submitIdpLogin, upstreamRequestSince,
} from './support';

const MAX_LIFETIME_SECONDS = 2 * 3600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const JWT_LIKE = /eyJ[\w-]+\.[\w-]+\.[\w-]*/;

/** Client Authorization headers a browser or attacker might send, as raw lines (casing, duplicates). */
const CLIENT_AUTHORIZATIONS: Array<Array<[string, string]>> = [
  [['Authorization', 'Basic Zm9vOmJhcg==']],
  [['AUTHORIZATION', 'Bearer client-chosen-token']],
  [['aUtHoRiZaTiOn', 'Bearer client-chosen-token']],
  [['Authorization', 'Bearer first'], ['authorization', 'Bearer second']],
  [['authorization', 'Bearer a'], ['Authorization', 'Basic Yjpj'], ['AUTHORIZATION', 'Bearer c']],
];

for (const store of STORES) {
  describe(`core flow (${store.name})`, () => {
    let stack: Stack;
    let app: string;
    /** Token values the IdP issued, as it saved them. */
    const issued = { access: [] as string[], refresh: [] as string[] };
    /** Alice's browser, logged in once for the read-only scenarios. */
    const alice = new Browser();
    let aliceCookie: string;
    let aliceToken: string;

    before(async () => {
      stack = await startStack({ redis: store.redis, env: { SESSION_MAX_LIFETIME: '2h' } });
      app = stack.appUrl;
      const provider = stack.idp.provider as unknown as { on(event: string, fn: (t: { jti: string }) => void): void };
      provider.on('access_token.saved', (t) => issued.access.push(t.jti));
      provider.on('refresh_token.saved', (t) => issued.refresh.push(t.jti));
      await loginViaIdp(alice, app, { redirect: '/api/warm-up' });
      aliceCookie = alice.cookieHeader(app)!;
      const seen = stack.upstream.last('/warm-up')?.headers.authorization ?? '';
      aliceToken = seen.replace(/^Bearer /, '');
    });
    after(() => stack?.close());

    test('login through the IdP lands on the redirect target with a sealed session cookie', async () => {
      const browser = new Browser();
      const mark = stack.upstream.requests.length;
      const result = await loginViaIdp(browser, app, { redirect: '/api/landing?x=1&y=%2F' });
      assert.equal(result.callback.status, 302);
      assert.equal(result.target, `${app}/api/landing?x=1&y=%2F`);
      assert.equal(result.page.status, 200);
      const landed = upstreamRequestSince(stack.upstream.requests, mark, '/landing');
      assert.equal(landed.url, '/landing?x=1&y=%2F');
      const [authorization] = rawValues(landed.rawHeaders, 'authorization');
      assert.match(authorization ?? '', /^Bearer \S+$/);

      // The token really is Alice's, at the IdP.
      const token = authorization.slice('Bearer '.length);
      assert.ok(issued.access.includes(token), 'the upstream got a token the IdP issued');
      const userinfo = await fetch(`${stack.idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(userinfo.status, 200);
      assert.equal(((await userinfo.json()) as { sub: string }).sub, 'alice');

      const cookies = browser.cookiesFor(app);
      const session = cookies.find((c) => c.name === 'gatehouse.session');
      assert.ok(session, 'a session cookie is set');
      assert.ok(session.httpOnly, 'session cookie is HttpOnly');
      assert.equal(session.sameSite?.toLowerCase(), 'lax');
      assert.equal(session.path, '/');
      assert.deepEqual(cookies.filter((c) => c.name.startsWith('gatehouse.login.')).map((c) => c.name), [], 'the login cookie is cleared');
      for (const c of cookies) {
        assert.ok(!c.value.includes(token), 'no token in a cookie');
        assert.ok(!c.value.includes('alice@example.com'), 'no claim in clear in a cookie');
      }
    });

    test('GET /oauth2/session returns the session JSON in Wonderwall order, without tokens', async () => {
      const res = await alice.get(`${app}/oauth2/session`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assertNoStore(res.headers.get('cache-control'), '/oauth2/session');
      const text = await res.text();
      const body = JSON.parse(text) as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(body), ['session', 'tokens', 'user']);
      assert.deepEqual(Object.keys(body.session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds']);
      assert.deepEqual(Object.keys(body.tokens), ['expire_at', 'refreshed_at', 'expire_in_seconds', 'next_auto_refresh_in_seconds', 'refresh_cooldown', 'refresh_cooldown_seconds']);
      const { session, tokens, user } = body;
      for (const t of [session.created_at, session.ends_at, session.timeout_at, tokens.expire_at, tokens.refreshed_at]) assert.match(String(t), RFC3339);
      assert.equal(session.timeout_at, '0001-01-01T00:00:00Z');
      assert.equal(session.timeout_in_seconds, -1);
      assert.equal(session.active, true);
      const endsIn = session.ends_in_seconds as number;
      assert.ok(endsIn <= MAX_LIFETIME_SECONDS && endsIn > MAX_LIFETIME_SECONDS - 600, `ends_in_seconds ${endsIn}`);
      assert.equal(Date.parse(String(session.ends_at)) - Date.parse(String(session.created_at)), MAX_LIFETIME_SECONDS * 1000);
      assert.ok((tokens.expire_in_seconds as number) > 0 && (tokens.expire_in_seconds as number) <= 300);
      assert.equal(typeof tokens.refresh_cooldown, 'boolean');
      assert.equal(typeof tokens.refresh_cooldown_seconds, 'number');
      assert.equal(typeof tokens.next_auto_refresh_in_seconds, 'number');
      assert.equal(Object.keys(user)[0], 'sub');
      assert.equal(user.sub, 'alice');
      assert.equal(user.name, 'Alice Demo');
      assert.equal(user.email, 'alice@example.com');
      assert.ok(!('nonce' in user) && !('at_hash' in user), 'protocol claims are not user data');

      assert.ok(aliceToken && !text.includes(aliceToken), 'no access token in the body');
      for (const t of [...issued.access, ...issued.refresh]) assert.ok(!text.includes(t), 'no IdP-issued token in the body');
      assert.doesNotMatch(text, JWT_LIKE, 'no id_token (or any JWT) in the body');
    });

    test('the upstream gets Authorization: Bearer <token> in place of any client Authorization', async () => {
      for (const [i, lines] of CLIENT_AUTHORIZATIONS.entries()) {
        const mark = stack.upstream.requests.length;
        const res = await rawRequest(`${app}/api/authz-${i}`, [...lines, ['Cookie', aliceCookie]]);
        assert.equal(res.status, 200, `variant ${i}`);
        const got = upstreamRequestSince(stack.upstream.requests, mark, `/authz-${i}`);
        assert.deepEqual(rawValues(got.rawHeaders, 'authorization'), [`Bearer ${aliceToken}`], `variant ${i}: ${JSON.stringify(lines)}`);
      }
    });

    test('without a session a client Authorization is removed', async () => {
      for (const [i, lines] of CLIENT_AUTHORIZATIONS.entries()) {
        const mark = stack.upstream.requests.length;
        const res = await rawRequest(`${app}/api/anon-${i}`, [...lines, ['Cookie', 'theme=dark']]);
        assert.equal(res.status, 200, `variant ${i}`);
        const got = upstreamRequestSince(stack.upstream.requests, mark, `/anon-${i}`);
        assert.deepEqual(rawValues(got.rawHeaders, 'authorization'), [], `variant ${i}: ${JSON.stringify(lines)}`);
      }
    });

    test('Gatehouse cookies never reach the upstream, other cookies do', async () => {
      const session = aliceCookie.split('; ').filter((p) => p.startsWith('gatehouse.session')).join('; ');
      const cases: Array<{ lines: Array<[string, string]>; cookie: string; bearer: boolean }> = [
        {
          lines: [['Cookie', `theme=dark; ${session}; gatehouse.login.AbCdEfGh=stale; gatehouse.logout=x; lang=en; gatehousefan=1`]],
          cookie: 'theme=dark; lang=en; gatehousefan=1',
          bearer: true,
        },
        {
          lines: [['Cookie', 'a=1; gatehouse.session=forged; gatehouse.session.1=x; gatehouse.session.7=y'], ['Cookie', 'gatehouse.login.x=1; b=2']],
          cookie: 'a=1; b=2',
          bearer: false,
        },
      ];
      for (const [i, c] of cases.entries()) {
        const mark = stack.upstream.requests.length;
        const res = await rawRequest(`${app}/api/cookies-${i}`, c.lines);
        assert.equal(res.status, 200);
        const got = upstreamRequestSince(stack.upstream.requests, mark, `/cookies-${i}`);
        assert.deepEqual(rawValues(got.rawHeaders, 'cookie'), [c.cookie], `case ${i}`);
        assert.deepEqual(rawValues(got.rawHeaders, 'authorization'), c.bearer ? [`Bearer ${aliceToken}`] : []);
      }
      // Only Gatehouse cookies: no Cookie header at all upstream.
      const mark = stack.upstream.requests.length;
      await rawRequest(`${app}/api/cookies-none`, [['Cookie', session]]);
      assert.deepEqual(rawValues(upstreamRequestSince(stack.upstream.requests, mark, '/cookies-none').rawHeaders, 'cookie'), []);
    });

    test('no x-middleware-* header reaches the upstream or the browser', async () => {
      const mark = stack.upstream.requests.length;
      const res = await rawRequest(`${app}/api/mw?q=1`, [
        ['Cookie', aliceCookie],
        ['x-middleware-subrequest', 'proxy:proxy:proxy:proxy:proxy'],
        ['X-Middleware-Rewrite', 'http://127.0.0.1:1/evil'],
        ['x-middleware-override-headers', 'authorization'],
        ['x-middleware-request-authorization', 'Bearer evil'],
        ['x-middleware-set-cookie', 'gatehouse.session=evil'],
      ]);
      assert.equal(res.status, 200);
      const got = upstreamRequestSince(stack.upstream.requests, mark, '/mw');
      assert.deepEqual(headerPairs(got.rawHeaders).filter(([n]) => /^x-middleware-/i.test(n)), []);
      assert.deepEqual(rawValues(got.rawHeaders, 'authorization'), [`Bearer ${aliceToken}`]);

      const responses: Array<[string, Headers | string[]]> = [['/api/mw', res.rawHeaders]];
      for (const path of ['/', '/oauth2/session', '/api/plain', '/does-not-exist']) {
        const r = await alice.get(`${app}${path}`, { headers: NAV });
        await r.body?.cancel();
        responses.push([path, r.headers]);
      }
      const fresh = new Browser();
      const login = await startLogin(fresh, app, stack.idp, '/api/x');
      responses.push(['/oauth2/login', login.res.headers]);
      for (const [path, headers] of responses) {
        assert.deepEqual(headerPairs(headers).filter(([n]) => /^x-middleware-/i.test(n)), [], `${path} leaks x-middleware-*`);
        assert.ok(!headerPairs(headers).some(([, v]) => v.includes(stack.upstream.url)), `${path} leaks the upstream URL`);
      }
    });

    test('X-Request-Id: set upstream and echoed; well-formed ids kept, malformed ones replaced', async () => {
      const cases: Array<{ sent?: string; kept: boolean }> = [
        { kept: false },
        { sent: 'trace-123.abc_DEF:9/z', kept: true },
        { sent: 'x'.repeat(200), kept: true },
        { sent: 'x'.repeat(201), kept: false },
        { sent: 'has spaces inside', kept: false },
        { sent: 'caf\u00e9', kept: false },
        { sent: '', kept: false },
      ];
      for (const [i, c] of cases.entries()) {
        const mark = stack.upstream.requests.length;
        const res = await rawRequest(`${app}/api/rid-${i}`, c.sent === undefined ? [] : [['X-Request-Id', c.sent]]);
        const echoed = rawValues(res.rawHeaders, 'x-request-id');
        assert.equal(echoed.length, 1, `case ${i}: one X-Request-Id echoed`);
        if (c.kept) assert.equal(echoed[0], c.sent, `case ${i}`);
        else assert.match(echoed[0], UUID, `case ${i}: a fresh UUID replaces ${JSON.stringify(c.sent)}`);
        const got = upstreamRequestSince(stack.upstream.requests, mark, `/rid-${i}`);
        assert.deepEqual(rawValues(got.rawHeaders, 'x-request-id'), echoed, `case ${i}: the upstream got the same id`);
      }
      const ping = await rawRequest(`${app}/oauth2/ping`, [['X-Request-Id', 'ping-check-1']]);
      assert.deepEqual(rawValues(ping.rawHeaders, 'x-request-id'), ['ping-check-1']);
    });

    test('/oauth2/ping answers pong; every /oauth2 response says Cache-Control: no-store', async () => {
      const ping = await rawRequest(`${app}/oauth2/ping`, []);
      assert.equal(ping.status, 200);
      assert.equal(ping.body.trim(), 'pong');

      const anon = new Browser();
      const fetchHeaders = { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', accept: 'application/json' };
      const cases: Array<{ path: string; method?: string; browser?: Browser; headers?: Record<string, string>; status: number }> = [
        { path: '/oauth2/ping', status: 200 },
        { path: '/oauth2/session', status: 401 },
        { path: '/oauth2/session', browser: alice, status: 200 },
        { path: '/oauth2/session/refresh', method: 'POST', status: 401 },
        { path: '/oauth2/session/refresh', method: 'GET', status: 405 },
        { path: '/oauth2/session/refresh', method: 'PUT', status: 405 },
        { path: '/oauth2/session/refresh', method: 'DELETE', status: 405 },
        { path: '/oauth2/x', status: 404 },
        { path: '/oauth2/session/nope', status: 404 },
        { path: '/oauth2/login?redirect=/a', headers: NAV, status: 302 },
        { path: '/oauth2/login', headers: fetchHeaders, status: 401 },
        { path: '/oauth2/callback?code=x&state=y', headers: NAV, status: 400 },
        { path: '/oauth2/logout', headers: NAV, status: 302 },
        { path: '/oauth2/logout/callback', headers: NAV, status: 302 },
        { path: '/oauth2/logout/local', status: 204 },
        { path: '/oauth2/logout/frontchannel', status: 202 },
        { path: '/oauth2/logout/backchannel', method: 'POST', status: 400 },
      ];
      for (const c of cases) {
        const res = await (c.browser ?? anon).request(`${app}${c.path}`, { method: c.method ?? 'GET', headers: c.headers });
        await res.body?.cancel();
        const what = `${c.method ?? 'GET'} ${c.path}`;
        assert.equal(res.status, c.status, what);
        assertNoStore(res.headers.get('cache-control'), what);
        assert.ok(res.headers.get('x-request-id'), `${what}: X-Request-Id echoed`);
      }
    });

    test('the route prefix is replaced by the upstream path, query kept', async () => {
      const cases: Array<[string, string]> = [
        ['/api/x?y=1', '/x?y=1'],
        ['/api/a/b/?q=1&q=2', '/a/b/?q=1&q=2'],
        ['/api?z=2', '/?z=2'],
      ];
      for (const [sent, expected] of cases) {
        const mark = stack.upstream.requests.length;
        const res = await rawRequest(`${app}${sent}`, [['Cookie', aliceCookie]]);
        assert.equal(res.status, 200, sent);
        const got = stack.upstream.requests.slice(mark);
        assert.deepEqual(got.map((r) => r.url), [expected], sent);
        assert.deepEqual(rawValues(got[0].rawHeaders, 'authorization'), [`Bearer ${aliceToken}`]);
      }
      const mark = stack.upstream.requests.length;
      const res = await rawRequest(`${app}/apiary`, []);
      assert.equal(res.status, 404, '/apiary is not under /api');
      assert.equal(stack.upstream.requests.length, mark, '/apiary must not reach the upstream');
    });

    test('two logins started in parallel in one browser (two tabs) both complete', async () => {
      const browser = new Browser();
      const tabA = await startLogin(browser, app, stack.idp, '/api/tab-a');
      const tabB = await startLogin(browser, app, stack.idp, '/api/tab-b?b=1');
      assert.equal(browser.cookiesFor(app).filter((c) => c.name.startsWith('gatehouse.login.')).length, 2, 'one login cookie per attempt');
      const formA = await openIdpLoginForm(browser, tabA.location);
      const formB = await openIdpLoginForm(browser, tabB.location);

      // Each callback is fetched by submitIdpLogin; its answer must send that tab to its own target.
      const callbackA = await submitIdpLogin(browser, formA, 'alice');
      assert.equal(new URL(callbackA.url).searchParams.get('state'), tabA.state);
      assert.equal(callbackA.status, 302, 'tab A callback');
      assert.equal(new URL(callbackA.location!, app).href, `${app}/api/tab-a`);
      assert.equal((await browser.follow(new URL(callbackA.location!, app))).status, 200);

      const callbackB = await submitIdpLogin(browser, formB, 'alice');
      assert.equal(new URL(callbackB.url).searchParams.get('state'), tabB.state);
      assert.equal(callbackB.status, 302, 'tab B callback');
      assert.equal(new URL(callbackB.location!, app).href, `${app}/api/tab-b?b=1`);
      assert.equal((await browser.follow(new URL(callbackB.location!, app))).status, 200);
      assert.match(stack.upstream.last('/tab-b')?.headers.authorization ?? '', /^Bearer \S+$/);

      const session = await browser.get(`${app}/oauth2/session`);
      assert.equal(session.status, 200);
      assert.deepEqual(browser.cookiesFor(app).filter((c) => c.name.startsWith('gatehouse.login.')), [], 'both login cookies cleared');
    });

    test('logout goes through the IdP end_session and back to the remembered redirect; a replayed cookie is no session', async () => {
      const browser = new Browser();
      await loginViaIdp(browser, app, { login: 'bob' });
      const oldCookies = sessionCookies(browser, app);
      assert.ok(oldCookies.length > 0);
      const endSessions = stack.idp.endSessions;
      const metadata = (await (await fetch(`${stack.idp.issuer}/.well-known/openid-configuration`)).json()) as { end_session_endpoint: string };

      const page = await logoutViaIdp(browser, app, { redirect: '/api/after-logout?x=1' });
      const first = page.hops[0];
      assert.equal(first.status, 302);
      const endSession = new URL(first.location!);
      assert.equal(endSession.origin + endSession.pathname, metadata.end_session_endpoint);
      const hint = decodeJwt(endSession.searchParams.get('id_token_hint') ?? '');
      assert.equal(hint.sub, 'bob');
      assert.equal(hint.iss, stack.idp.issuer);
      const state = endSession.searchParams.get('state');
      assert.ok(state && state.length >= 16, 'a random state');
      assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${app}/oauth2/logout/callback`);

      const callback = page.hops.find((h) => new URL(h.url).pathname === '/oauth2/logout/callback');
      assert.ok(callback, 'the IdP sent the browser back to the logout callback');
      assert.equal(new URL(callback.url).searchParams.get('state'), state);
      assert.equal(callback.status, 302);
      assert.equal(new URL(callback.location!, app).href, `${app}/api/after-logout?x=1`);
      assert.equal(page.status, 200);
      assert.equal(stack.idp.endSessions, endSessions + 1, 'the IdP session ended');
      assert.deepEqual(rawValues(stack.upstream.last('/after-logout')!.rawHeaders, 'authorization'), []);
      assert.deepEqual(sessionCookies(browser, app), [], 'the session cookie is cleared');
      assert.equal((await browser.get(`${app}/oauth2/session`)).status, 401);

      await assertReplayIsNoSession(oldCookies, 'after-logout-replay');
    });

    test('/oauth2/logout/local answers 204 and ends the session', async () => {
      const browser = new Browser();
      await loginViaIdp(browser, app, { login: 'carol' });
      const oldCookies = sessionCookies(browser, app);
      const res = await browser.get(`${app}/oauth2/logout/local`);
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      assert.ok(res.headers.getSetCookie().some((l) => l.startsWith('gatehouse.session=;') && /max-age=0/i.test(l)), 'the session cookie is cleared');
      assert.deepEqual(sessionCookiesSet(res.headers), []);
      assert.equal((await browser.get(`${app}/oauth2/session`)).status, 401);
      await assertReplayIsNoSession(oldCookies, 'after-local-replay');
    });

    if (store.redis) {
      test('Redis holds no token or claim in clear, and every key expires within SESSION_MAX_LIFETIME', async () => {
        assert.ok(issued.access.length > 0 && issued.refresh.length > 0, 'the IdP issued tokens');
        const redis = stack.redis!.client();
        const keys = await redis.keys('*');
        assert.ok(keys.length > 0, 'sessions are stored in Redis');
        let sawFreshSession = false;
        for (const key of keys) {
          const type = await redis.type(key);
          const values =
            type === 'string' ? [(await redis.get(key)) ?? '']
            : type === 'set' ? await redis.smembers(key)
            : type === 'hash' ? Object.entries(await redis.hgetall(key)).flat()
            : type === 'list' ? await redis.lrange(key, 0, -1)
            : type === 'zset' ? await redis.zrange(key, '0', '-1')
            : [];
          const dump = `${key}\n${values.join('\n')}`;
          for (const t of [...issued.access, ...issued.refresh]) assert.ok(!dump.includes(t), `token in clear under ${key}`);
          for (const claim of ['alice@example.com', 'Alice Demo', stack.idp.issuer]) assert.ok(!dump.includes(claim), `"${claim}" in clear under ${key}`);
          assert.doesNotMatch(dump, JWT_LIKE, `a JWT in clear under ${key}`);
          const ttl = await redis.pttl(key);
          assert.ok(ttl > 0, `${key} has no expiry (pttl ${ttl})`);
          assert.ok(ttl <= MAX_LIFETIME_SECONDS * 1000, `${key} outlives SESSION_MAX_LIFETIME (pttl ${ttl})`);
          if (type === 'string' && ttl > (MAX_LIFETIME_SECONDS - 600) * 1000) sawFreshSession = true;
        }
        assert.ok(sawFreshSession, 'a live session key with a TTL close to SESSION_MAX_LIFETIME');
      });
    }

    /** Plants `cookies` in a fresh browser: no session, and no Bearer upstream. */
    async function assertReplayIsNoSession(cookies: Array<[string, string]>, probe: string) {
      const replay = new Browser();
      for (const [name, value] of cookies) replay.setCookie(app, name, value);
      const session = await replay.get(`${app}/oauth2/session`);
      assert.equal(session.status, 401, 'a replayed session cookie must not be a session');
      const mark = stack.upstream.requests.length;
      const res = await replay.get(`${app}/api/${probe}`, { headers: { authorization: 'Bearer replayed' } });
      assert.equal(res.status, 200);
      assert.deepEqual(rawValues(upstreamRequestSince(stack.upstream.requests, mark, `/${probe}`).rawHeaders, 'authorization'), []);
    }
  });
}
