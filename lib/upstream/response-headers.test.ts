import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { browserResponseHeaders, type BrowserResponseOptions, type UrlMapping } from './response-headers';

const own = { prefix: 'gatehouse' };
const options = (over: Partial<BrowserResponseOptions> = {}): BrowserResponseOptions => ({ requestId: 'req-123', setCookies: [], ownCookies: own, ...over });

describe('browserResponseHeaders', () => {
  const upstream: IncomingHttpHeaders = {
    'content-type': 'text/html',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'x-middleware-rewrite': 'http://api.internal:8080/v1/x',
    'x-middleware-set-cookie': 'a=b',
    'x-nextjs-cache': 'HIT',
    'x-request-id': 'upstream-id',
    'set-cookie': ['app=1; Path=/', 'other=2; Path=/'],
  };

  test('drops hop-by-hop and internal headers, keeps the rest, sets our request id', () => {
    const out = browserResponseHeaders(upstream, options());
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'x-middleware-rewrite', 'x-middleware-set-cookie', 'x-nextjs-cache']) {
      assert.equal(name in out, false, name);
    }
    assert.equal(out['content-type'], 'text/html');
    assert.equal(out['cache-control'], 'no-cache');
    assert.equal(out['x-request-id'], 'req-123');
    assert.deepEqual(out['set-cookie'], ['app=1; Path=/', 'other=2; Path=/']);
  });

  test("upstream cookies kept, Gatehouse's appended after them", () => {
    const out = browserResponseHeaders(upstream, options({ setCookies: ['gatehouse.session=new; Path=/; HttpOnly'] }));
    assert.deepEqual(out['set-cookie'], ['app=1; Path=/', 'other=2; Path=/', 'gatehouse.session=new; Path=/; HttpOnly']);
  });

  test('no Set-Cookie invented', () => {
    assert.equal('set-cookie' in browserResponseHeaders({ 'content-type': 'text/plain' }, options()), false);
  });

  test('the input is not modified', () => {
    const copy = structuredClone(upstream);
    browserResponseHeaders(upstream, options({ setCookies: ['x=1'] }));
    assert.deepEqual(upstream, copy);
  });
});

describe("browserResponseHeaders: an upstream cannot set Gatehouse's cookies", () => {
  const dropped = [
    'gatehouse.session=x; Path=/', 'gatehouse.session.1=x', 'gatehouse.login.abc=x', 'gatehouse.logout=x', 'GATEHOUSE.SESSION=x', 'Gatehouse.Session=x',
    ' gatehouse.session =x', '\tgatehouse.session=x', '=gatehouse.session=x', 'gatehouse.session', '__Secure-gatehouse.session=x; Secure', '__Host-gatehouse.session=x; Secure; Path=/',
    '__HOST-GATEHOUSE.session=x',
  ];
  for (const header of dropped) {
    test(`dropped: ${JSON.stringify(header)}`, () => {
      const out = browserResponseHeaders({ 'set-cookie': [header, 'upstream=1; Path=/'] }, options());
      assert.deepEqual(out['set-cookie'], ['upstream=1; Path=/']);
    });
  }
  for (const header of ['upstream=1', 'gatehouses=1', 'gatehouse=1', 'session=1', 'my.gatehouse.session=1']) {
    test(`kept: ${header}`, () => {
      assert.deepEqual(browserResponseHeaders({ 'set-cookie': [header] }, options())['set-cookie'], [header]);
    });
  }
  test('a custom prefix and the SSO session cookie name', () => {
    const out = browserResponseHeaders({ 'set-cookie': ['acme.session=x', 'sso=x', 'SSO.1=x', 'gatehouse.session=y'] }, options({ ownCookies: { prefix: 'acme', sessionName: 'sso' } }));
    assert.deepEqual(out['set-cookie'], ['gatehouse.session=y']);
  });
  test('configured names with a browser prefix (__Host-, __Secure-) are protected in every spelling', () => {
    const out = browserResponseHeaders(
      { 'set-cookie': ['__Host-gh.session=x; Path=/; Secure', '=__Host-gh.session=x', 'gh.session=x', '__secure-GH.login.a=x', '__Secure-sso=x', '__host-SSO=x', 'sso.1=x', 'keep=1'] },
      options({ ownCookies: { prefix: '__Host-gh', sessionName: '__Secure-sso' } }),
    );
    assert.deepEqual(out['set-cookie'], ['keep=1']);
  });

  test('without ownCookies (the SSO server) cookies pass', () => {
    assert.deepEqual(browserResponseHeaders({ 'set-cookie': ['gatehouse.session=x'] }, options({ ownCookies: undefined }))['set-cookie'], ['gatehouse.session=x']);
  });
});

describe('browserResponseHeaders: a response with our cookie is never stored by a shared cache', () => {
  const cookie = ['gatehouse.session=sealed; Path=/; HttpOnly'];
  const variants: IncomingHttpHeaders[] = [
    { 'cache-control': 'public, max-age=3600' },
    { 'cache-control': 's-maxage=600' },
    { 'cache-control': 'max-age=60' },
    {},
    { expires: 'Wed, 21 Oct 2099 07:28:00 GMT' },
    { 'cache-control': 'public, max-age=3600', 'cdn-cache-control': 'max-age=600', 'surrogate-control': 'max-age=600', 'cloudflare-cdn-cache-control': 'max-age=1', 'vercel-cdn-cache-control': 'max-age=1', 'edge-control': 'cache-maxage=600s', 'x-accel-expires': '600' },
    { 'cache-control': 'no-store' },
  ];
  for (const headers of variants) {
    test(JSON.stringify(headers), () => {
      const out = browserResponseHeaders(headers, options({ setCookies: cookie }));
      assert.equal(out['cache-control'], 'private, no-store');
      for (const name of Object.keys(out)) assert.doesNotMatch(name, /cdn-cache-control|surrogate-control|edge-control|x-accel-expires/);
    });
  }
  test("without a cookie of ours the upstream's caching stays", () => {
    const headers = { 'cache-control': 'public, max-age=3600', 'cdn-cache-control': 'max-age=600' };
    const out = browserResponseHeaders(headers, options());
    assert.equal(out['cache-control'], 'public, max-age=3600');
    assert.equal(out['cdn-cache-control'], 'max-age=600');
  });
});

describe('browserResponseHeaders: URLs naming the upstream', () => {
  const m: UrlMapping = { ingress: new URL('https://app.example'), routes: [{ prefix: '/api', target: new URL('http://10.0.0.5:8080') }] };
  test('Location, Content-Location and Refresh are mapped to the ingress', () => {
    const out = browserResponseHeaders({ location: 'http://10.0.0.5:8080/x', 'content-location': '//10.0.0.5:8080/y', refresh: '0; url=http://10.0.0.5:8080/z' }, options({ mapping: m }));
    assert.equal(out.location, 'https://app.example/api/x');
    assert.equal(out['content-location'], 'https://app.example/api/y');
    assert.equal(out.refresh, '0; url=https://app.example/api/z');
  });
  test('two headers joined into one, still naming the upstream, are dropped', () => {
    const out = browserResponseHeaders({ 'content-location': 'http://10.0.0.5:8080/a, http://10.0.0.5:8080/b', refresh: '0; url=/a, http://10.0.0.5:8080/b' }, options({ mapping: m }));
    assert.equal('content-location' in out, false);
    assert.equal('refresh' in out, false);
  });
  test('an unreadable Refresh URL is dropped', () => {
    assert.equal('refresh' in browserResponseHeaders({ refresh: "0;url='http://[::1'" }, options({ mapping: m })), false);
  });
});
