import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { browserResponseHeaders, refreshToPublic, toPublicUrl, type BrowserResponseOptions, type UrlMapping } from './response-headers';

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
    { 'cache-control': 'public, max-age=3600', 'cdn-cache-control': 'max-age=600', 'surrogate-control': 'max-age=600', 'cloudflare-cdn-cache-control': 'max-age=1', 'vercel-cdn-cache-control': 'max-age=1', 'edge-control': 'cache-maxage=600s' },
    { 'cache-control': 'no-store' },
  ];
  for (const headers of variants) {
    test(JSON.stringify(headers), () => {
      const out = browserResponseHeaders(headers, options({ setCookies: cookie }));
      assert.equal(out['cache-control'], 'private, no-store');
      for (const name of Object.keys(out)) assert.doesNotMatch(name, /cdn-cache-control|surrogate-control|edge-control/);
    });
  }
  test("without a cookie of ours the upstream's caching stays", () => {
    const headers = { 'cache-control': 'public, max-age=3600', 'cdn-cache-control': 'max-age=600' };
    const out = browserResponseHeaders(headers, options());
    assert.equal(out['cache-control'], 'public, max-age=3600');
    assert.equal(out['cdn-cache-control'], 'max-age=600');
  });
});

describe('toPublicUrl (Location, Content-Location)', () => {
  const api: UrlMapping = { target: new URL('http://10.0.0.5:8080'), ingress: new URL('https://app.example'), routePrefix: '/api' };
  const based: UrlMapping = { target: new URL('http://10.0.0.5:8080/base'), ingress: new URL('https://app.example/app'), routePrefix: '/api' };
  const sidecar: UrlMapping = { target: new URL('http://127.0.0.1:8080/'), ingress: new URL('https://app.example'), routePrefix: '/' };
  const cases: { name: string; m: UrlMapping; input: string; want: string }[] = [
    { name: 'absolute on the upstream', m: api, input: 'http://10.0.0.5:8080/x?y=1#z', want: 'https://app.example/api/x?y=1#z' },
    { name: 'upper-case scheme and host', m: api, input: 'HTTP://10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'scheme-relative', m: api, input: '//10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'backslashes', m: api, input: 'http:\\\\10.0.0.5:8080\\x', want: 'https://app.example/api/x' },
    { name: 'slash-backslash', m: api, input: '/\\10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'userinfo dropped', m: api, input: 'http://u:p@10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'the upstream root', m: api, input: 'http://10.0.0.5:8080', want: 'https://app.example/api/' },
    { name: 'target path mapped back', m: based, input: 'http://10.0.0.5:8080/base/users', want: 'https://app.example/app/api/users' },
    { name: 'outside the target path: kept on the ingress', m: based, input: 'http://10.0.0.5:8080/other', want: 'https://app.example/app/other' },
    { name: 'sidecar', m: sidecar, input: 'http://127.0.0.1:8080/dashboard', want: 'https://app.example/dashboard' },
    { name: 'default port spelled out', m: { ...sidecar, target: new URL('http://upstream/') }, input: 'http://upstream:80/x', want: 'https://app.example/x' },
    { name: 'relative path untouched', m: api, input: '/somewhere', want: '/somewhere' },
    { name: 'relative without slash untouched', m: api, input: 'next?page=2', want: 'next?page=2' },
    { name: 'foreign absolute untouched', m: api, input: 'https://example.com/x', want: 'https://example.com/x' },
    { name: 'same host, other port untouched', m: api, input: 'http://10.0.0.5:9999/x', want: 'http://10.0.0.5:9999/x' },
    { name: 'already public untouched', m: api, input: 'https://app.example/api/x', want: 'https://app.example/api/x' },
    { name: 'unparsable untouched', m: api, input: 'http://[::1', want: 'http://[::1' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(toPublicUrl(c.input, c.m), c.want));
  }

  test('in the response headers', () => {
    const out = browserResponseHeaders({ location: 'http://10.0.0.5:8080/x', 'content-location': '//10.0.0.5:8080/y', refresh: '0; url=http://10.0.0.5:8080/z' }, options({ mapping: api }));
    assert.equal(out.location, 'https://app.example/api/x');
    assert.equal(out['content-location'], 'https://app.example/api/y');
    assert.equal(out.refresh, '0; url=https://app.example/api/z');
  });
});

describe('refreshToPublic', () => {
  const m: UrlMapping = { target: new URL('http://10.0.0.5:8080'), ingress: new URL('https://app.example'), routePrefix: '/api' };
  const cases: [string, string][] = [
    ['0; url=http://10.0.0.5:8080/x', '0; url=https://app.example/api/x'],
    ["5;URL='http://10.0.0.5:8080/x'", "5;URL='https://app.example/api/x'"],
    ['3, http://10.0.0.5:8080/x', '3, https://app.example/api/x'],
    ['1.5 ; Url = "http://10.0.0.5:8080/x"', '1.5 ; Url = "https://app.example/api/x"'],
    ['0; url=/relative', '0; url=/relative'],
    ['5', '5'],
    ['not a refresh', 'not a refresh'],
    ['0; url=https://example.com/', '0; url=https://example.com/'],
  ];
  for (const [input, want] of cases) test(input, () => assert.equal(refreshToPublic(input, m), want));
});
