// SSO proxy mode (SPEC §8), against the production build: a server-mode Gatehouse and a
// proxy-mode Gatehouse sharing one redis-server and SESSION_SECRET, the dev IdP and a recording
// upstream behind the proxy. The proxy has no IdP credentials at all.
//
// Both run on 127.0.0.1 (SSO_DOMAIN=localhost on the server, which the test browser ignores), so
// the session cookie is carried to the proxy explicitly, as a browser would send a Domain cookie.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/sso-proxy.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { startApp, type App } from '../harness/app';
import { FETCH_HEADERS, NAVIGATION_HEADERS, httpRequest, loginViaIdp, Browser } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';

const COOKIE = 'example.sso';

describe('SSO proxy mode', () => {
  let server: Stack;
  let proxy: App;
  let proxyUpstream: Upstream;
  let proxyUrl: string;

  before(async () => {
    server = await startStack({
      redis: true,
      // Short tokens: the refresh cooldown (half their lifetime) is over in 2 s.
      idp: { accessTokenTtlSeconds: 4 },
      env: { SSO_MODE: 'server', SSO_DOMAIN: 'localhost', SSO_SESSION_COOKIE_NAME: COOKIE, UPSTREAMS: '' },
    });
    proxyUpstream = await startUpstream();
    const port = await freePort();
    proxyUrl = `http://localhost:${port}`;
    proxy = await startApp({
      INGRESS: proxyUrl,
      SESSION_SECRET: server.env.SESSION_SECRET,
      REDIS_URL: server.redis!.url,
      SSO_MODE: 'proxy',
      SSO_SERVER_URL: server.appUrl,
      SSO_SESSION_COOKIE_NAME: COOKIE,
      UPSTREAMS: `/api=${proxyUpstream.url}`,
      // Every session "needs" a refresh here, and every request would extend it: a standalone
      // Gatehouse would write on each request. A proxy must not.
      SESSION_REFRESH_BEFORE: '24h',
      SESSION_INACTIVITY_TIMEOUT: '20s',
    }, { port });
  });
  after(async () => {
    await proxy?.stop();
    await proxyUpstream?.close();
    await server?.close();
  });

  /** Logs in on the server; returns the Cookie header a browser would send to any host of the domain. */
  async function loginOnServer(): Promise<string> {
    const browser = new Browser();
    await loginViaIdp(browser, server.appUrl, { stopAfterCallback: true });
    const cookie = browser.cookie(server.appUrl, COOKIE);
    assert.ok(cookie, 'the server should set the SSO session cookie');
    return `${COOKIE}=${cookie.value}; other=kept`;
  }

  test('a request with the server\'s session cookie reaches the upstream with the Bearer token', async () => {
    const cookie = await loginOnServer();
    const res = await httpRequest(`${proxyUrl}/api/me`, { headers: { ...FETCH_HEADERS, cookie } });
    await res.text();
    assert.equal(res.status, 200);
    const seen = proxyUpstream.last('/me');
    assert.ok(seen, 'the upstream should have been called');
    assert.match(String(seen.headers.authorization), /^Bearer [\w.~+/-]{16,}=*$/);
    assert.equal(seen.headers.cookie, 'other=kept', 'the SSO session cookie never reaches the upstream');
    assert.equal(res.headers.getSetCookie().length, 0, 'a proxy never writes a session cookie');
  });

  test('a proxy never refreshes nor writes a session: the shared Redis is left as the server wrote it', async () => {
    const cookie = await loginOnServer();
    // Once the cooldown is over, a standalone Gatehouse with these settings would refresh (and
    // touch the session) on the next request.
    await eventually('the refresh cooldown to end', 10_000, async () => {
      const res = await httpRequest(`${server.appUrl}/oauth2/session`, { headers: { ...FETCH_HEADERS, cookie } });
      const json = (await res.json()) as { tokens: { refresh_cooldown: boolean } };
      return json.tokens.refresh_cooldown === false;
    });
    const redis = server.redis!.client();
    const snapshot = async () => {
      const keys = (await redis.keys('*')).sort();
      return Promise.all(keys.map(async (k) => `${k}=${(await redis.type(k)) === 'string' ? await redis.get(k) : await redis.type(k)}`));
    };
    const before = await snapshot();
    const grants = server.idp.grants.refreshGrants;
    for (let i = 0; i < 3; i++) {
      const res = await httpRequest(`${proxyUrl}/api/readonly`, { headers: { ...FETCH_HEADERS, cookie } });
      await res.text();
      assert.equal(res.status, 200);
      assert.equal(res.headers.getSetCookie().length, 0);
    }
    assert.match(String(proxyUpstream.last('/readonly')?.headers.authorization), /^Bearer /);
    assert.equal(server.idp.grants.refreshGrants, grants, 'no refresh grant from the proxy');
    assert.deepEqual(await snapshot(), before, 'the proxy wrote to the shared Redis');
  });

  test('without a session the upstream gets no Bearer token', async () => {
    const res = await httpRequest(`${proxyUrl}/api/anon`, { headers: FETCH_HEADERS });
    await res.text();
    assert.equal(proxyUpstream.last('/anon')?.headers.authorization, undefined);
  });

  test('/oauth2/login redirects to the server with an absolute redirect back to the proxy', async () => {
    const res = await httpRequest(`${proxyUrl}/oauth2/login?redirect=${encodeURIComponent('/api/me?x=1')}&level=high`, { headers: NAVIGATION_HEADERS });
    await res.text();
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, `${server.appUrl}/oauth2/login`);
    assert.equal(location.searchParams.get('redirect'), `${proxyUrl}/api/me?x=1`);
    assert.equal(location.searchParams.get('level'), 'high');
  });

  test('/oauth2/login sanitises the requested redirect before sending it back', async () => {
    const res = await httpRequest(`${proxyUrl}/oauth2/login?redirect=${encodeURIComponent('https://evil.net/steal')}`, { headers: NAVIGATION_HEADERS });
    await res.text();
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(location.searchParams.get('redirect'), `${proxyUrl}/steal`);
  });

  test('a full login started on the proxy comes back to the proxy, logged in', async () => {
    const start = await httpRequest(`${proxyUrl}/oauth2/login?redirect=%2Fapi%2Fafter`, { headers: NAVIGATION_HEADERS });
    await start.text();
    const atServer = new URL(start.headers.get('location') ?? '');
    // The rest of the login happens on the server, exactly as the proxy asked for it.
    const browser = new Browser();
    const login = await loginViaIdp(browser, server.appUrl, { redirect: atServer.searchParams.get('redirect') ?? '', stopAfterCallback: true });
    assert.equal(login.callback.location, `${proxyUrl}/api/after`, 'the server sends the browser back to the proxy');
    const cookie = browser.cookie(server.appUrl, COOKIE);
    assert.ok(cookie);
    const res = await httpRequest(`${proxyUrl}/api/after`, { headers: { ...FETCH_HEADERS, cookie: `${COOKIE}=${cookie.value}` } });
    await res.text();
    assert.match(String(proxyUpstream.last('/after')?.headers.authorization), /^Bearer /);
  });

  test('/oauth2/logout redirects to the server\'s logout with an absolute redirect back', async () => {
    const res = await httpRequest(`${proxyUrl}/oauth2/logout`, { headers: NAVIGATION_HEADERS });
    await res.text();
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, `${server.appUrl}/oauth2/logout`);
    assert.equal(location.searchParams.get('redirect'), `${proxyUrl}/`);
  });

  test('/oauth2/session on the proxy returns the server\'s answer', async () => {
    const cookie = await loginOnServer();
    const [viaProxy, direct] = await Promise.all([
      httpRequest(`${proxyUrl}/oauth2/session`, { headers: { ...FETCH_HEADERS, cookie } }),
      httpRequest(`${server.appUrl}/oauth2/session`, { headers: { ...FETCH_HEADERS, cookie } }),
    ]);
    const [a, b] = [await viaProxy.json() as Record<string, any>, await direct.json() as Record<string, any>];
    assert.equal(viaProxy.status, 200);
    assert.deepEqual(a.user, b.user);
    assert.equal(a.session.created_at, b.session.created_at);
    const none = await httpRequest(`${proxyUrl}/oauth2/session`, { headers: FETCH_HEADERS });
    assert.equal(none.status, 401);
    await none.text();
  });

  test('a local logout through the proxy ends the shared session on the server', async () => {
    const cookie = await loginOnServer();
    const res = await httpRequest(`${proxyUrl}/oauth2/logout/local`, { headers: { ...FETCH_HEADERS, cookie } });
    await res.text();
    assert.equal(res.status, 204);
    assert.ok(res.headers.getSetCookie().some((l) => l.startsWith(`${COOKIE}=;`) && /Domain=localhost/.test(l)), 'the server clears its cookie');
    const after = await httpRequest(`${server.appUrl}/oauth2/session`, { headers: { ...FETCH_HEADERS, cookie } });
    await after.text();
    assert.equal(after.status, 401);
    const api = await httpRequest(`${proxyUrl}/api/gone`, { headers: { ...FETCH_HEADERS, cookie } });
    await api.text();
    assert.equal(proxyUpstream.last('/gone')?.headers.authorization, undefined);
  });

  test('the proxy has no callbacks of its own', async () => {
    for (const path of ['/oauth2/callback?code=x&state=y', '/oauth2/logout/callback?state=y']) {
      const res = await httpRequest(`${proxyUrl}${path}`, { headers: NAVIGATION_HEADERS });
      await res.text();
      assert.equal(res.status, 404, path);
    }
  });
});
