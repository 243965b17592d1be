// Access rules, identity headers and forward-auth against the production build (SPEC §3
// `/oauth2/auth`, §4 item 5, §12): one stack, restarted with new rules the way an operator would.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/access-rules.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { FETCH, NAV, build, get, raw, utf8AsLatin1, withCookie, type Hdrs } from './raw-http';
import { assertNoStore, callApp, loginFresh } from './support';
import { exchange, handshake } from './ws-client';

/** Who the dev IdP says each login is (merged over its demo claims). */
const ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { groups: ['admins', 'staff'] },
  bob: { groups: ['staff'] },
  eve: { email: 'eve@evil.example', groups: ['admins'] },
  mallory: { email: 'mallory@example.com', email_verified: false, groups: ['admins'] },
  jose: { preferred_username: 'José', groups: ['Sales, EMEA', 'R&D'] },
};

const RULES = { ALLOWED_EMAIL_DOMAINS: 'example.com', ALLOWED_GROUPS: 'admins' };

const upstreamSaw = (stack: Stack, since: number, path: string) => stack.upstream.requests.slice(since).filter((r) => r.url.split('?')[0] === path);

describe('access rules, identity headers, forward-auth', { timeout: 240_000 }, () => {
  let stack: Stack;
  let host: string;
  const cookies: Record<string, string> = {};
  before(async () => {
    stack = await startStack({ idp: { accountClaims: (login) => ACCOUNTS[login] ?? {} } });
    host = new URL(stack.appUrl).host;
    // Sessions made before any rule exists: the restart below must lock some of them out.
    for (const login of ['alice', 'bob', 'jose']) cookies[login] = (await loginFresh(stack.appUrl, login)).cookie;
  }, { timeout: 90_000 });
  after(() => stack?.close());

  describe('without rules', () => {
    test('everyone the IdP authenticates passes; no identity headers by default', async () => {
      const since = stack.upstream.requests.length;
      const res = await raw(stack.port, build(get('/api/me', withCookie(cookies.bob, [...FETCH, ['X-Auth-Request-User', 'admin']])), host));
      assert.equal(res.status, 200);
      const [seen] = upstreamSaw(stack, since, '/me');
      assert.match(String(seen.headers.authorization), /^Bearer \S+$/);
      assert.equal(Object.keys(seen.headers).some((n) => /^x[-_]auth[-_]request/i.test(n)), false, 'client-sent X-Auth-Request-* removed with the feature off');
    });
  });

  describe('rules turned on by a restart', () => {
    before(() => stack.restartApp(RULES), { timeout: 60_000 });

    test('a stored session that fails them: 403 JSON for a fetch to an upstream, the upstream never sees it', async () => {
      const since = stack.upstream.arrived.length;
      const res = await callApp(stack.appUrl, '/api/data', cookies.bob);
      assert.equal(res.status, 403);
      assert.equal(res.json().error, 'forbidden');
      assertNoStore(res.headers.get('cache-control'), '403');
      assert.equal(stack.upstream.arrived.length, since, 'nothing reached the upstream');
    });

    test('… the error page with 403 for a navigation to an upstream', async () => {
      const since = stack.upstream.arrived.length;
      const res = await raw(stack.port, build(get('/api/page', withCookie(cookies.bob, NAV)), host));
      assert.equal(res.status, 403);
      assert.match(res.header('content-type') ?? '', /text\/html/);
      assert.match(res.body.toString(), /403/);
      assert.equal(stack.upstream.arrived.length, since);
    });

    test('… 403 on Gatehouse\'s own pages (proxy.ts), navigation and fetch', async () => {
      const nav = await raw(stack.port, build(get('/', withCookie(cookies.bob, NAV)), host));
      assert.equal(nav.status, 403);
      assert.match(nav.header('content-type') ?? '', /text\/html/);
      const fetch = await callApp(stack.appUrl, '/', cookies.bob);
      assert.equal(fetch.status, 403);
      assert.equal(fetch.json().error, 'forbidden');
    });

    test('… 403 on a WebSocket upgrade, the upstream never sees it', async () => {
      const since = stack.upstream.arrived.length;
      const res = await exchange(stack.port, Buffer.from(handshake('/api/ws', host, [['Cookie', cookies.bob]]), 'latin1'));
      assert.equal(res.status, 403, res.text.slice(0, 200));
      assert.equal(res.switches, 0);
      assert.equal(stack.upstream.arrived.length, since);
    });

    test('… 403 from /oauth2/auth', async () => {
      const res = await callApp(stack.appUrl, '/oauth2/auth', cookies.bob);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('authorization'), null);
    });

    test('a stored session that passes them goes on as before, page, upstream and upgrade', async () => {
      const since = stack.upstream.requests.length;
      assert.equal((await callApp(stack.appUrl, '/api/data', cookies.alice)).status, 200);
      assert.match(String(upstreamSaw(stack, since, '/data')[0]?.headers.authorization), /^Bearer /);
      assert.equal((await raw(stack.port, build(get('/', withCookie(cookies.alice, NAV)), host))).status, 200);
      const ws = await exchange(stack.port, Buffer.from(handshake('/api/ws', host, [['Cookie', cookies.alice]]), 'latin1'));
      assert.equal(ws.switches, 1, ws.text.slice(0, 200));
    });

    for (const [login, why] of [['bob', 'not in an allowed group'], ['eve', 'email on another domain'], ['mallory', 'email_verified false']] as const) {
      test(`a login that fails them (${why}): the 403 error page and no session`, async () => {
        const browser = new Browser();
        const { callback, page } = await loginViaIdp(browser, stack.appUrl, { login, redirect: '/api/wanted' });
        assert.equal(callback.status, 403, `callback answered ${callback.status}`);
        assert.equal(page.status, 403);
        assert.match(page.body, /not allowed/);
        assert.equal(browser.cookiesFor(stack.appUrl).some((c) => c.name === 'gatehouse.session'), false, 'no session cookie');
        assert.equal((await browser.get(`${stack.appUrl}/oauth2/session`)).status, 401);
      });
    }

    test('a login that passes them creates a session', async () => {
      const browser = new Browser();
      const { callback } = await loginViaIdp(browser, stack.appUrl, { login: 'alice', redirect: '/api/wanted', stopAfterCallback: true });
      assert.equal(callback.status, 302);
      assert.equal((await browser.get(`${stack.appUrl}/oauth2/session`)).status, 200);
    });
  });

  describe('ERROR_PATH with rules', () => {
    before(() => stack.restartApp({ ...RULES, ERROR_PATH: '/error' }), { timeout: 60_000 });

    test('a refused navigation goes to ERROR_PATH with status_code=403; a fetch still gets 403 JSON', async () => {
      const nav = await raw(stack.port, build(get('/api/page', withCookie(cookies.bob, NAV)), host));
      assert.equal(nav.status, 302);
      const location = new URL(nav.header('location') ?? '', stack.appUrl);
      assert.equal(location.pathname, '/error');
      assert.equal(location.searchParams.get('status_code'), '403');
      assert.ok(location.searchParams.get('correlation_id'));
      assert.equal((await callApp(stack.appUrl, '/api/page', cookies.bob)).status, 403);
    });

    test('a refused login goes to ERROR_PATH with status_code=403', async () => {
      const browser = new Browser();
      const { callback } = await loginViaIdp(browser, stack.appUrl, { login: 'eve', stopAfterCallback: true });
      assert.equal(callback.status, 302);
      const location = new URL(callback.location ?? '', stack.appUrl);
      assert.equal(location.pathname, '/error');
      assert.equal(location.searchParams.get('status_code'), '403');
    });
  });

  describe('identity headers', () => {
    before(() => stack.restartApp({ ALLOWED_EMAIL_DOMAINS: '', ALLOWED_GROUPS: '', ERROR_PATH: '', UPSTREAM_IDENTITY_HEADERS: 'true' }), { timeout: 60_000 });

    /** Client header lines that try to pass for an identity: casing, duplicates, `_` forms. */
    const FORGED: Hdrs = [
      ['X-Auth-Request-User', 'admin'],
      ['x-auth-request-user', 'admin2'],
      ['X-AUTH-REQUEST-EMAIL', 'root@example.com'],
      ['X_Auth_Request_User', 'admin'],
      ['X-Auth-Request_Groups', 'admins'],
      ['x_auth_request_preferred_username', 'root'],
      ['X-Auth-Request-Access-Token', 'forged'],
    ];
    const identityOf = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([n]) => /^x[-_]auth[-_]request/i.test(n)));

    test('the session\'s claims arrive, every client-sent spelling is gone', async () => {
      const since = stack.upstream.requests.length;
      const res = await raw(stack.port, build(get('/api/who', withCookie(cookies.alice, [...FETCH, ...FORGED])), host));
      assert.equal(res.status, 200);
      const [seen] = upstreamSaw(stack, since, '/who');
      assert.deepEqual(identityOf(seen.headers), {
        'x-auth-request-user': 'alice',
        'x-auth-request-email': 'alice@example.com',
        'x-auth-request-preferred-username': 'alice',
        'x-auth-request-groups': 'admins,staff',
      });
      const rawNames = seen.rawHeaders.filter((_, i) => i % 2 === 0 && /^x[-_]auth[-_]request/i.test(seen.rawHeaders[i]));
      assert.equal(rawNames.length, 4, `one line each: ${rawNames.join(', ')}`);
    });

    test('non-ASCII is percent-encoded UTF-8, a comma inside a group name is %2C', async () => {
      const since = stack.upstream.requests.length;
      assert.equal((await callApp(stack.appUrl, '/api/who', cookies.jose)).status, 200);
      const [seen] = upstreamSaw(stack, since, '/who');
      assert.equal(seen.headers['x-auth-request-preferred-username'], 'Jos%C3%A9');
      assert.equal(seen.headers['x-auth-request-groups'], 'Sales%2C EMEA,R&D');
      assert.deepEqual(String(seen.headers['x-auth-request-groups']).split(',').map(decodeURIComponent), ['Sales, EMEA', 'R&D']);
    });

    test('without a session: no identity headers, forged ones removed', async () => {
      const since = stack.upstream.requests.length;
      assert.equal((await raw(stack.port, build(get('/api/anon', [...FETCH, ...FORGED]), host))).status, 200);
      assert.deepEqual(identityOf(upstreamSaw(stack, since, '/anon')[0].headers), {});
    });

    test('an obs-folded forged header never reaches the upstream as a value', async () => {
      const since = stack.upstream.requests.length;
      const lines = `GET /api/fold HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookies.alice}\r\nX-Auth-Request-User: admin\r\n  continued\r\nConnection: close\r\n\r\n`;
      const res = await raw(stack.port, Buffer.from(lines, 'latin1'));
      if (res.status === 200) {
        const [seen] = upstreamSaw(stack, since, '/fold');
        assert.equal(seen.headers['x-auth-request-user'], 'alice');
      } else {
        assert.equal(res.status, 400);
        assert.equal(upstreamSaw(stack, since, '/fold').length, 0);
      }
    });

    test('a raw UTF-8 forged value is removed like any other', async () => {
      const since = stack.upstream.requests.length;
      const res = await raw(stack.port, build(get('/api/utf', withCookie(cookies.alice, [...FETCH, ['X-Auth-Request-Email', utf8AsLatin1('röot@example.com')]])), host));
      assert.equal(res.status, 200);
      assert.equal(upstreamSaw(stack, since, '/utf')[0].headers['x-auth-request-email'], 'alice@example.com');
    });

    test('WebSocket upgrades carry them too', async () => {
      const since = stack.upstream.requests.length;
      const ws = await exchange(stack.port, Buffer.from(handshake('/api/ws', host, [['Cookie', cookies.alice], ['X-Auth-Request-User', 'admin']]), 'latin1'));
      assert.equal(ws.switches, 1, ws.text.slice(0, 200));
      const [seen] = upstreamSaw(stack, since, '/ws');
      assert.equal(seen.headers['x-auth-request-user'], 'alice');
      assert.equal(seen.headers['x-auth-request-groups'], 'admins,staff');
    });

    test('/oauth2/auth answers with them beside the Bearer', async () => {
      const res = await callApp(stack.appUrl, '/oauth2/auth', cookies.jose);
      assert.equal(res.status, 202);
      assert.match(res.headers.get('authorization') ?? '', /^Bearer \S+$/);
      assert.equal(res.headers.get('x-auth-request-user'), 'jose');
      assert.equal(res.headers.get('x-auth-request-preferred-username'), 'Jos%C3%A9');
    });
  });

  describe('/oauth2/auth', () => {
    const ask = (headers: Hdrs) => raw(stack.port, build(get('/oauth2/auth', headers), host));

    test('no session: 401 JSON with login_url back to X-Original-URI, the same URL in Location, no-store', async () => {
      const res = await ask([['X-Original-URI', '/app/deep?x=1&y=%2F']]);
      assert.equal(res.status, 401);
      const body = JSON.parse(res.body.toString());
      assert.deepEqual(body, { error: 'unauthenticated', login_url: `/oauth2/login?redirect=${encodeURIComponent('/app/deep?x=1&y=%2F')}` });
      assert.equal(res.header('location'), body.login_url);
      assertNoStore(res.header('cache-control'), '/oauth2/auth');
      assert.equal(res.header('authorization'), undefined);
    });

    test('no session, navigation headers forwarded by the proxy: still 401, never a redirect', async () => {
      const res = await ask([...NAV, ['X-Original-URI', '/x']]);
      assert.equal(res.status, 401);
    });

    test('Traefik\'s X-Forwarded-Uri is read the same way', async () => {
      const res = await ask([['X-Forwarded-Uri', '/traefik/path?q=1'], ['X-Forwarded-Method', 'GET']]);
      assert.equal(JSON.parse(res.body.toString()).login_url, `/oauth2/login?redirect=${encodeURIComponent('/traefik/path?q=1')}`);
    });

    for (const [uri, want] of [['https://evil.example/steal?x=1', '/steal?x=1'], ['//evil.example/x', '/'], ['/\\evil.example', '/'], ['javascript:alert(1)', '/'], ['', '/']] as const) {
      test(`a foreign original URI ${JSON.stringify(uri)} is reduced to ${want}`, async () => {
        const res = await ask([['X-Original-URI', uri]]);
        assert.equal(res.status, 401);
        const loginUrl = new URL(JSON.parse(res.body.toString()).login_url, 'http://gatehouse.invalid');
        assert.equal(loginUrl.searchParams.get('redirect'), want);
      });
    }

    test('a valid session: 202 with the Bearer the upstream routes also send', async () => {
      const res = await callApp(stack.appUrl, '/oauth2/auth', cookies.alice);
      assert.equal(res.status, 202);
      assertNoStore(res.headers.get('cache-control'), '202');
      const since = stack.upstream.requests.length;
      await callApp(stack.appUrl, '/api/token', cookies.alice);
      assert.equal(res.headers.get('authorization'), upstreamSaw(stack, since, '/token')[0].headers.authorization);
    });

    test('a client Authorization without a session is no session', async () => {
      const res = await ask([['Authorization', 'Bearer forged']]);
      assert.equal(res.status, 401);
      assert.equal(res.header('authorization'), undefined);
    });
  });
});
