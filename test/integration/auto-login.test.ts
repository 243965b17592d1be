// Auto-login (SPEC §3 "Navigation vs. fetch", §4 item 2, §7 login rate limit) against the
// production build, on both gates: upstream routes (the Node proxy) and pages (proxy.ts).
//
//   NEXT_DIST_DIR=.next-hostile node --import tsx --test test/integration/auto-login.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../harness/app';
import { Browser, FETCH_HEADERS, NAVIGATION_HEADERS, httpRequest, loginViaIdp, sessionCookieOf } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { pieces, uploadThenRead } from './raw-http';

type H = Record<string, string>;

/** Navigations by SPEC §3: Sec-Fetch navigate + document, or no Sec-Fetch and an Accept listing text/html. */
const NAVIGATIONS: Array<[string, H]> = [
  ['Sec-Fetch-Mode: navigate + Sec-Fetch-Dest: document', NAVIGATION_HEADERS],
  ['Sec-Fetch navigate + document without Accept', { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
  ['Sec-Fetch values in upper case', { 'sec-fetch-mode': 'NAVIGATE', 'sec-fetch-dest': 'Document', accept: '*/*' }],
  ['no Sec-Fetch, Accept: text/html', { accept: 'text/html' }],
  ['no Sec-Fetch, Accept: TEXT/HTML;q=0.9', { accept: 'TEXT/HTML;q=0.9' }],
  ['no Sec-Fetch, Accept with parameters and spaces', { accept: 'application/xhtml+xml, Text/Html ; level=1 ; q=0.5, */*;q=0.1' }],
];

/** Everything else gets 401 JSON with the login URL. */
const NON_NAVIGATIONS: Array<[string, string, H]> = [
  ['fetch (Sec-Fetch-Mode: cors)', 'GET', FETCH_HEADERS],
  ['Sec-Fetch-Mode: navigate but Sec-Fetch-Dest: iframe', 'GET', { ...NAVIGATION_HEADERS, 'sec-fetch-dest': 'iframe' }],
  ['only Sec-Fetch-Mode: navigate (no Dest), Accept: text/html', 'GET', { 'sec-fetch-mode': 'navigate', accept: 'text/html' }],
  ['POST with navigation headers', 'POST', NAVIGATION_HEADERS],
  ['HEAD with navigation headers', 'HEAD', NAVIGATION_HEADERS],
  ['OPTIONS with navigation headers', 'OPTIONS', NAVIGATION_HEADERS],
  ['Accept: application/json', 'GET', { accept: 'application/json' }],
  ['Accept: */* (curl)', 'GET', { accept: '*/*' }],
  ['no headers at all', 'GET', {}],
  ['Accept: text/html;q=0', 'GET', { accept: 'text/html;q=0, application/json' }],
];

/** The two gates: an upstream route (server.ts) and a page Next serves (proxy.ts). */
const GATED_PATHS = ['/api/items?a=1&b=%2Fx', '/nowhere/page?x=1'];

describe('auto-login (SPEC §3, §4 item 2)', { timeout: 180_000 }, () => {
  let stack: Stack;
  let session: string;

  before(async () => {
    stack = await startStack({ env: { AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/api/public/**,/api/health' } });
    ({ cookie: session } = await sessionCookieOf(stack.appUrl));
  }, { timeout: 90_000 });
  after(() => stack?.close());

  const req = (p: string, method = 'GET', headers: H = {}) =>
    httpRequest(`${stack.appUrl}${p}`, { method, headers, body: method === 'POST' ? 'x=1' : undefined, signal: AbortSignal.timeout(10_000) });
  /** Location (relative, or absolute on the ingress) as the path+query the login will come back to. */
  const loginTarget = (location: string | null): string | null => {
    if (!location) return null;
    const u = new URL(location, stack.appUrl);
    assert.equal(u.origin, new URL(stack.appUrl).origin, `Location on the ingress: ${location}`);
    assert.equal(u.pathname, '/oauth2/login', `Location to login: ${location}`);
    return u.searchParams.get('redirect');
  };

  for (const p of GATED_PATHS) {
    for (const [name, headers] of NAVIGATIONS) {
      test(`navigation (${name}) to ${p} → 302 to login with redirect=${p}`, async () => {
        const before = stack.upstream.requests.length;
        const res = await req(p, 'GET', headers);
        assert.equal(res.status, 302, await res.text());
        assert.equal(loginTarget(res.headers.get('location')), p);
        assert.equal(stack.upstream.requests.length, before, 'nothing forwarded');
      });
    }
    for (const [name, method, headers] of NON_NAVIGATIONS) {
      test(`${name} to ${p} → 401 JSON {error: unauthenticated, login_url} and Location`, async () => {
        const before = stack.upstream.requests.length;
        const res = await req(p, method, headers);
        assert.equal(res.status, 401, await res.clone().text());
        assert.equal(loginTarget(res.headers.get('location')), p);
        if (method !== 'HEAD') {
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          const body = (await res.json()) as { error: string; login_url: string };
          assert.equal(body.error, 'unauthenticated');
          assert.equal(loginTarget(body.login_url), p);
        }
        assert.equal(stack.upstream.requests.length, before, 'nothing forwarded');
      });
    }
  }

  test('a 16 MB POST without a session, read after the upload → the 401 arrives, not a connection reset', async () => {
    for (const p of ['/api/items', '/oauth2/session/refresh']) {
      const res = await uploadThenRead(stack.port, `POST ${p} HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: ${16 << 20}\r\n\r\n`, pieces(Buffer.alloc(16 << 20, 0x61)));
      assert.match(res.text.split('\r\n')[0], /^HTTP\/1\.1 (401|413) /, `${p}: the answer was lost (${res.writeError ?? 'no write error'}): the connection was closed while the body was still arriving`);
    }
  });

  test('ignored paths pass without a session (navigation and fetch); near misses do not', async () => {
    for (const p of ['/api/public', '/api/public/x', '/api/public/a/b/c?q=1', '/api/health']) {
      for (const headers of [NAVIGATION_HEADERS, FETCH_HEADERS]) {
        const res = await req(p, 'GET', headers);
        assert.equal(res.status, 200, `${p}: ${await res.text()}`);
        assert.equal(stack.upstream.last()?.url, p.slice('/api'.length) || '/');
        assert.equal(stack.upstream.last()?.headers.authorization, undefined);
      }
    }
    for (const p of ['/api/publicity', '/api/healthz', '/api/health/deeper', '/api']) {
      assert.equal((await req(p, 'GET', FETCH_HEADERS)).status, 401, p);
    }
  });

  test('/favicon.ico, /robots.txt and /_next/static/* never redirect to login', async () => {
    const chunk = readdirSync(path.join(ROOT, process.env.NEXT_DIST_DIR || '.next', 'static', 'chunks')).find((f) => f.endsWith('.js'));
    assert.ok(chunk, 'a built chunk');
    const real = await req(`/_next/static/chunks/${chunk}`, 'GET', { ...NAVIGATION_HEADERS, 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'no-cors' });
    assert.equal(real.status, 200);
    assert.match(real.headers.get('content-type') ?? '', /javascript/);
    for (const p of ['/favicon.ico', '/robots.txt', '/_next/static/chunks/missing.js', '/_next/static/x/y/z.css']) {
      for (const headers of [NAVIGATION_HEADERS, FETCH_HEADERS]) {
        const res = await req(p, 'GET', headers);
        await res.body?.cancel();
        assert.ok(res.status !== 302 && res.status !== 401 && res.status < 500, `${p}: ${res.status}`);
        assert.doesNotMatch(res.headers.get('location') ?? '', /oauth2\/login/, p);
      }
    }
  });

  test('with a session everything passes, and upstream requests carry the Bearer token', async () => {
    for (const [method, headers] of [['GET', NAVIGATION_HEADERS], ['GET', FETCH_HEADERS], ['POST', FETCH_HEADERS], ['HEAD', NAVIGATION_HEADERS], ['OPTIONS', FETCH_HEADERS], ['GET', {}]] as const) {
      const res = await req('/api/items?a=1', method, { ...headers, cookie: session, authorization: 'Basic eDp5' });
      await res.body?.cancel();
      assert.equal(res.status, 200, `${method} ${JSON.stringify(headers)}`);
      const got = stack.upstream.last('/items')!;
      assert.equal(got.method, method);
      assert.match(String(got.headers.authorization), /^Bearer \S+$/);
    }
    const page = await req('/', 'GET', { ...NAVIGATION_HEADERS, cookie: session });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });

  const INTERACTIVE = ['/oauth2/login', '/oauth2/callback?code=x&state=y', '/oauth2/logout', '/oauth2/logout/callback'];

  for (const p of INTERACTIVE) {
    test(`${p.split('?')[0]} answers a fetch (Sec-Fetch-Mode: cors, Dest: empty) with 401 JSON, and a plain client with a redirect or page`, async () => {
      for (const cookie of [undefined, session]) {
        const res = await req(p, 'GET', { ...FETCH_HEADERS, ...(cookie ? { cookie } : {}) });
        assert.equal(res.status, 401, await res.clone().text());
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(((await res.json()) as { error: string }).error, 'unauthenticated');
        assert.ok(!res.headers.get('location')?.startsWith(stack.idp.issuer), 'no redirect to the IdP');
        assert.deepEqual(res.headers.getSetCookie().filter((c) => /^gatehouse\.session=;|Max-Age=0/.test(c)), [], 'the session is not touched');
      }
      const plain = await req(p, 'GET', {});
      await plain.body?.cancel();
      assert.ok([302, 400].includes(plain.status), `no Sec-Fetch headers: interactive (${plain.status})`);
    });
  }

  test('a fetch to /oauth2/logout does not end the session', async () => {
    await (await req('/oauth2/logout', 'GET', { ...FETCH_HEADERS, cookie: session })).body?.cancel();
    assert.equal((await req('/oauth2/session', 'GET', { ...FETCH_HEADERS, cookie: session })).status, 200);
  });

  test('login rate limit: a browser with a session gets 429 on the 6th login within 5 s; one without never', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, stack.appUrl, { login: 'rate' });
    const start = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await browser.get(`${stack.appUrl}/oauth2/login?redirect=/r${i}`, { headers: NAVIGATION_HEADERS });
      statuses.push(res.status);
      if (i === 5) {
        assert.match(res.headers.get('content-type') ?? '', /text\/html/, 'the error page');
        assert.match(await res.text(), /429/);
      } else await res.body?.cancel();
    }
    assert.ok(Date.now() - start < 5_000, 'within the 5 s window');
    assert.deepEqual(statuses, [302, 302, 302, 302, 302, 429]);
    assert.equal((await browser.get(`${stack.appUrl}/oauth2/session`, { headers: FETCH_HEADERS })).status, 200, 'still logged in');

    const anonymous = new Browser();
    for (let i = 0; i < 12; i++) {
      const res = await anonymous.get(`${stack.appUrl}/oauth2/login?redirect=/a${i}`, { headers: NAVIGATION_HEADERS });
      await res.body?.cancel();
      assert.equal(res.status, 302, `anonymous login #${i + 1}`);
      assert.ok(res.headers.get('location')?.startsWith(stack.idp.issuer));
    }
  });
});
