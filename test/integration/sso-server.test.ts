// SSO server mode (SPEC §8), against the production build, the dev IdP and a real redis-server:
// the session cookie on SSO_DOMAIN under SSO_SESSION_COOKIE_NAME, absolute redirects to the domain
// and its subdomains (others sanitised as usual), CORS with credentials on the session API.
//
// Everything runs on 127.0.0.1; SSO_DOMAIN is `localhost`, so "a subdomain" is `app.localhost`.
// The test browser ignores Domain, so cookies are asserted on the Set-Cookie lines themselves.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/sso-server.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, NAVIGATION_HEADERS, httpRequest, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { loginUpToCallback } from './support';

const COOKIE = 'example.sso';
const SUB = 'http://app.localhost:8443/after?x=1';

describe('SSO server mode', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      redis: true,
      env: { SSO_MODE: 'server', SSO_DOMAIN: 'localhost', SSO_SESSION_COOKIE_NAME: COOKIE, UPSTREAMS: '' },
    });
  });
  after(() => stack?.close());

  /** A real login; returns the callback's answer (its Set-Cookie lines and Location). */
  async function callback(redirect?: string): Promise<{ browser: Browser; res: Response }> {
    const browser = new Browser();
    const { callback: url } = await loginUpToCallback(browser, stack.appUrl, stack.idp, redirect);
    const res = await browser.get(url, { headers: NAVIGATION_HEADERS });
    await res.text();
    return { browser, res };
  }

  test('the session cookie is named SSO_SESSION_COOKIE_NAME, on the SSO domain, for every path', async () => {
    const { browser, res: answer } = await callback();
    const lines = answer.headers.getSetCookie();
    const session = lines.find((l) => l.startsWith(`${COOKIE}=`));
    assert.ok(session, `expected a ${COOKIE} cookie, got ${JSON.stringify(lines)}`);
    assert.match(session, /; Domain=localhost(;|$)/);
    assert.match(session, /; Path=\/(;|$)/);
    assert.ok(!lines.some((l) => l.startsWith('gatehouse.session=')), 'no standalone session cookie');
    // The login cookie stays host-only.
    for (const line of lines.filter((l) => l.startsWith('gatehouse.login.'))) assert.doesNotMatch(line, /Domain=/);

    const res = await browser.get(`${stack.appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
    assert.equal(res.status, 200, 'the session cookie works on the server itself');
  });

  test('login keeps an absolute redirect to a subdomain of SSO_DOMAIN', async () => {
    const { res } = await callback(SUB);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), SUB);
  });

  test('login keeps an absolute redirect to the SSO domain itself', async () => {
    const { res } = await callback('http://localhost:9999/x');
    assert.equal(res.headers.get('location'), 'http://localhost:9999/x');
  });

  for (const evil of ['http://localhost.evil.net/steal', 'http://evillocalhost/steal', 'http://app.localhost@evil.net/steal', '//localhost@evil.net/steal']) {
    test(`login reduces ${evil} to a same-origin path`, async () => {
      const { res } = await callback(evil);
      const location = res.headers.get('location') ?? '';
      assert.ok(location.startsWith('/') && !location.startsWith('//'), `expected a relative path, got ${location}`);
      assert.equal(new URL(location, stack.appUrl).origin, new URL(stack.appUrl).origin);
    });
  }

  test('logout keeps an absolute redirect to a subdomain and refuses an evil one', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, stack.appUrl, { stopAfterCallback: true });
    // Through the IdP's end-session endpoint and back to the logout callback, which sends us on.
    const good = await browser.follow(`${stack.appUrl}/oauth2/logout?redirect=${encodeURIComponent(SUB)}`, {
      stopAt: (next) => next.hostname === 'app.localhost',
    });
    assert.equal(good.stoppedAt, SUB, good.hops.map((h) => `${h.status} ${h.url} -> ${h.location}`).join('\n'));

    await loginViaIdp(browser, stack.appUrl, { stopAfterCallback: true });
    const evil = await browser.follow(`${stack.appUrl}/oauth2/logout?redirect=${encodeURIComponent('http://localhost.evil.net/x')}`, {
      stopAt: (next) => next.hostname !== '127.0.0.1',
    });
    assert.equal(evil.stoppedAt, undefined, `followed to ${evil.stoppedAt}`);
    for (const hop of evil.hops) assert.doesNotMatch(hop.location ?? '', /evil\.net/);
  });

  test('the session API answers CORS with credentials for an origin on the domain', async () => {
    const { browser } = await callback();
    const origin = 'http://app.localhost:8443';
    const res = await browser.get(`${stack.appUrl}/oauth2/session`, { headers: { ...FETCH_HEADERS, origin, 'sec-fetch-site': 'same-site' } });
    await res.text();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/i);
  });

  test('the session API answers no CORS for another origin', async () => {
    for (const origin of ['http://evil.net', 'http://localhost.evil.net', 'http://evillocalhost', 'null']) {
      const res = await httpRequest(`${stack.appUrl}/oauth2/session`, { headers: { ...FETCH_HEADERS, origin } });
      await res.text();
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, origin);
      assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/i);
    }
  });

  test('a preflight is answered 204 with methods and headers for an allowed origin only', async () => {
    const origin = 'http://app.localhost';
    const ok = await httpRequest(`${stack.appUrl}/oauth2/session/refresh`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    await ok.text();
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /content-type/i);

    const evil = await httpRequest(`${stack.appUrl}/oauth2/session`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.net', 'access-control-request-method': 'GET' },
    });
    await evil.text();
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-methods'), null);
  });

  test('a refresh through the session API from an allowed origin keeps the CORS headers', async () => {
    const { browser } = await callback();
    const origin = 'http://localhost:5173';
    const res = await browser.request(`${stack.appUrl}/oauth2/session/refresh`, { method: 'POST', headers: { ...FETCH_HEADERS, origin } });
    await res.text();
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  });
});
