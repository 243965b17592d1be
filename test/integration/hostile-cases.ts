// The hostile-input table (hostile-input.test.ts runs it): one row per case, grouped by class,
// grown with every bug class found. Rows marked `redis` run a second time against the Redis store.

import assert from 'node:assert/strict';
import type { RecordedRequest } from '../../dev/upstream';
import { Browser, parseForms } from '../harness/http';
import type { Stack } from '../harness/stack';
import { FETCH, NAV, build, get, raw, utf8AsLatin1, withCookie, type Hdrs, type RawResponse, type RawSpec } from './raw-http';

export interface Ctx {
  stack: Stack;
  /** Cookie header of a logged-in browser. */
  session: string;
  host: string;
}
export interface Expect {
  status: number | number[];
  /** 'login': Location to /oauth2/login; 'idp': to the IdP; 'none': no Location. */
  location?: 'login' | 'idp' | 'none';
  json?: Record<string, unknown>;
  /** 'untouched': the upstream received nothing; or a check of what it received. */
  upstream?: 'untouched' | ((received: RecordedRequest[], ctx: Ctx) => void);
  maxMs?: number;
  check?: (res: RawResponse, ctx: Ctx, sent: RawSpec) => void | Promise<void>;
}
export interface Case {
  class: string;
  name: string;
  /** Also run against the Redis store (cases that read a session). */
  redis?: boolean;
  request: RawSpec | ((ctx: Ctx) => RawSpec | Promise<RawSpec>);
  expect: Expect;
}

export const json = (res: RawResponse) => JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;

const gated: Expect = { status: 401, location: 'login', json: { error: 'unauthenticated' }, upstream: 'untouched' };
const toLogin: Expect = { status: 302, location: 'login', upstream: 'untouched' };
const refused: Expect = { status: 400, upstream: 'untouched' };
const protectedOrRefused: Expect = { status: [400, 401], upstream: 'untouched' };
const upstreamGot = (path: string, check?: (r: RecordedRequest, ctx: Ctx) => void): Expect => ({
  status: 200,
  upstream: (received, ctx) => {
    assert.equal(received.length, 1, `exactly one upstream request, got ${received.map((r) => r.url).join(', ')}`);
    assert.equal(received[0].url, path);
    check?.(received[0], ctx);
  },
});
const noUpstreamHeader = (name: string) => (r: RecordedRequest) => {
  const sent = r.rawHeaders.filter((_, i) => i % 2 === 0 && r.rawHeaders[i].toLowerCase() === name);
  assert.equal(sent.length, 0, `${name} must not reach the upstream: ${JSON.stringify(r.headers[name])}`);
};
/** After a failed callback: no session cookie set, and the cookies the browser now holds give no session. */
const noSession = async (res: RawResponse, ctx: Ctx, cookie = '') => {
  assert.ok(!res.headers.some(([n, v]) => n === 'set-cookie' && /^gatehouse\.session=[^;]+/.test(v)), 'no session cookie set');
  const after = await raw(ctx.stack.port, build(get('/oauth2/session', cookie ? withCookie(cookie) : FETCH), ctx.host));
  assert.equal(after.status, 401, 'no session afterwards');
};

/** A real login attempt stopped at the callback: its browser (holding the login cookie) and the callback URL. */
async function callbackOfRealLogin(ctx: Ctx): Promise<{ cookie: string; callback: URL }> {
  const browser = new Browser();
  const app = new URL(ctx.stack.appUrl);
  const stopAt = (u: URL) => u.origin === app.origin && u.pathname === '/oauth2/callback';
  const idpPage = await browser.follow(`${ctx.stack.appUrl}/oauth2/login`, { stopAt });
  const form = parseForms(idpPage.body, idpPage.url).find((f) => 'login' in f.fields);
  assert.ok(form, 'IdP login form');
  const back = await browser.submit(form, { login: 'mallory', password: 'x' }, { stopAt });
  assert.ok(back.stoppedAt, 'stopped at the callback');
  return { cookie: browser.cookieHeader(app) ?? '', callback: new URL(back.stoppedAt) };
}

const MW = 'proxy:proxy:proxy:proxy:proxy';
const WS: Hdrs = [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']];
const EVIL: Hdrs = [['Host', 'evil.example'], ['X-Forwarded-Host', 'evil.example'], ['X-Forwarded-Proto', 'https'], ['Forwarded', 'host=evil.example;proto=https'], ['X-Forwarded-Port', '443']];
const junkChunks = (budget: number) => {
  const parts = ['gatehouse.session=x'];
  for (let n = 1, size = 20; size < budget; n++) {
    parts.push(`gatehouse.session.${n}=a`);
    size += parts[parts.length - 1].length + 2;
  }
  return parts.join('; ');
};

export const cases: Case[] = [
  // --- header smuggling -------------------------------------------------------------------
  { class: 'header-smuggling', name: 'Authorization in odd casing is stripped (ignored path, no session)', request: get('/api/public/a', [...FETCH, ['aUtHoRiZaTiOn', 'Bearer forged']]), expect: upstreamGot('/public/a', noUpstreamHeader('authorization')) },
  { class: 'header-smuggling', name: 'duplicated Authorization is stripped (ignored path, no session)', request: get('/api/public/b', [...FETCH, ['Authorization', 'Bearer forged'], ['AUTHORIZATION', 'Basic eDp5']]), expect: upstreamGot('/public/b', noUpstreamHeader('authorization')) },
  { class: 'header-smuggling', name: 'duplicated Authorization does not open a protected path', request: get('/api/x', [...FETCH, ['Authorization', 'Bearer forged'], ['authorization', 'Bearer forged2']]), expect: gated },
  {
    class: 'header-smuggling', name: 'with a session, forged Authorization headers become exactly one Bearer', redis: true,
    request: (ctx) => get('/api/me', withCookie(ctx.session, [...FETCH, ['AUTHORIZATION', 'Bearer forged'], ['authorization', 'Basic eDp5']])),
    expect: upstreamGot('/me', (r) => {
      const auth = r.rawHeaders.filter((_, i) => i % 2 === 1 && r.rawHeaders[i - 1].toLowerCase() === 'authorization');
      assert.equal(auth.length, 1, JSON.stringify(auth));
      assert.match(auth[0], /^Bearer (?!forged)\S+$/);
      assert.doesNotMatch(String(r.headers.cookie ?? ''), /gatehouse\./);
    }),
  },
  { class: 'header-smuggling', name: `x-middleware-subrequest: ${MW} on / (navigation) is still gated`, request: get('/', [...NAV, ['x-middleware-subrequest', MW]]), expect: toLogin },
  { class: 'header-smuggling', name: 'x-middleware-subrequest: middleware:×5 on / (fetch) is still gated', request: get('/', [...FETCH, ['x-middleware-subrequest', 'middleware:middleware:middleware:middleware:middleware']]), expect: gated },
  { class: 'header-smuggling', name: 'x-middleware-subrequest (proxy, middleware, src/proxy) on /api/x is still gated', request: get('/api/x', [...FETCH, ['x-middleware-subrequest', MW], ['X-Middleware-Subrequest', 'src/proxy:src/proxy:src/proxy:src/proxy:src/proxy'], ['x-middleware-subrequest', 'middleware']]), expect: gated },
  { class: 'header-smuggling', name: 'x-middleware-subrequest on /api/x (navigation) still redirects to login', request: get('/api/x', [...NAV, ['x-middleware-subrequest', MW]]), expect: toLogin },
  { class: 'header-smuggling', name: 'Next internal headers (x-invoke-path, x-matched-path, x-nextjs-data) do not open /', request: get('/', [...NAV, ['x-invoke-path', '/api/public/x'], ['x-matched-path', '/favicon.ico'], ['x-nextjs-data', '1'], ['x-middleware-prefetch', '1']]), expect: toLogin },
  { class: 'header-smuggling', name: 'Next internal headers never reach the upstream', request: get('/api/public/c', [...FETCH, ['x-middleware-subrequest', MW], ['x-middleware-rewrite', 'http://evil.example/'], ['x-invoke-path', '/x']]), expect: upstreamGot('/public/c', (r) => ['x-middleware-subrequest', 'x-middleware-rewrite', 'x-invoke-path'].forEach((h) => noUpstreamHeader(h)(r))) },
  {
    class: 'header-smuggling', name: 'Host/X-Forwarded-*/Forwarded: evil.example → login Location stays on the ingress', request: get('/private?x=1', [...NAV.slice(0, 3), ...EVIL]),
    expect: { ...toLogin, check: (res, ctx) => assert.equal(new URL(res.header('location')!, ctx.stack.appUrl).href, `${ctx.stack.appUrl}/oauth2/login?redirect=%2Fprivate%3Fx%3D1`) },
  },
  {
    class: 'header-smuggling', name: 'Host/X-Forwarded-*/Forwarded: evil.example → 401 login_url stays relative', request: get('/api/x', [...FETCH, ...EVIL]),
    expect: { ...gated, check: (res) => assert.equal(json(res).login_url, '/oauth2/login?redirect=%2Fapi%2Fx') },
  },
  {
    class: 'header-smuggling', name: 'Host/X-Forwarded-*/Forwarded: evil.example → redirect_uri at the IdP is the ingress', request: get('/oauth2/login', [...NAV, ...EVIL]),
    expect: { status: 302, location: 'idp', check: (_res, ctx) => assert.equal(ctx.stack.idp.authorizationRequests.at(-1)?.redirect_uri, `${ctx.stack.appUrl}/oauth2/callback`) },
  },
  { class: 'header-smuggling', name: 'client X-Forwarded-Host/Proto and Forwarded are replaced towards the upstream', request: get('/api/public/d', [...FETCH, ...EVIL.slice(1)]), expect: upstreamGot('/public/d', (r, ctx) => { assert.equal(r.headers['x-forwarded-host'], ctx.host); assert.equal(r.headers['x-forwarded-proto'], 'http'); noUpstreamHeader('forwarded')(r); }) },

  // --- oversized headers, query strings and cookie bombs -----------------------------------
  { class: 'oversized', name: 'Cookie header over 16 KB → 431/400', request: get('/api/x', withCookie(`a=${'x'.repeat(17_000)}`)), expect: { status: [431, 400], upstream: 'untouched' } },
  { class: 'oversized', name: 'query string of 20 KB → 414/431/400', request: get(`/api/x?q=${'a'.repeat(20_000)}`), expect: { status: [414, 431, 400], upstream: 'untouched' } },
  { class: 'oversized', name: 'query string of 20 KB on an ignored path → 414/431/400', request: get(`/api/public/x?q=${'a'.repeat(20_000)}`), expect: { status: [414, 431, 400], upstream: 'untouched' } },
  { class: 'oversized', name: '1,500 tiny header lines → normal gated answer', request: get('/api/x', [...FETCH, ...Array.from({ length: 1500 }, (_, i) => [`x-${i}`, '1'] as [string, string])]), expect: { ...gated, maxMs: 2_000 } },
  { class: 'oversized', name: 'long non-ASCII login redirect → no login cookie a browser would drop (> 4096 bytes)', request: get(`/oauth2/login?redirect=/${encodeURIComponent('é'.repeat(2000))}`, NAV), expect: { status: [302, 400, 414], check: (res) => res.headers.filter(([n]) => n === 'set-cookie').forEach(([, v]) => assert.ok(v.length <= 4096, `Set-Cookie of ${v.length} bytes`)) } },
  { class: 'cookie-bomb', name: 'hundreds of tiny session chunks (15 KB) → no session, fast', redis: true, request: get('/api/x', withCookie(junkChunks(15_000))), expect: { ...gated, maxMs: 1_000 } },
  { class: 'cookie-bomb', name: 'hundreds of tiny session chunks on /oauth2/session → 401, fast', redis: true, request: get('/oauth2/session', withCookie(junkChunks(15_000))), expect: { status: 401, maxMs: 1_000 } },
  {
    class: 'cookie-bomb', name: 'a real session followed by hundreds of junk chunks → no session, or the session (never a 5xx), fast', redis: true,
    request: (ctx) => get('/api/me', withCookie(`${ctx.session}; ${junkChunks(14_000).replace('gatehouse.session=x; ', '')}`)),
    expect: { status: [200, 401], maxMs: 1_000, upstream: (received) => assert.ok(received.every((r) => /^Bearer \S+$/.test(String(r.headers.authorization)))) },
  },
  { class: 'cookie-bomb', name: 'hundreds of login cookies on /oauth2/login → normal redirect, fast', request: get('/oauth2/login', withCookie(Array.from({ length: 400 }, (_, i) => `gatehouse.login.${String(i).padStart(8, 'A')}=x`).join('; '), NAV)), expect: { status: 302, location: 'idp', maxMs: 2_000 } },

  // --- malformed cookies ---------------------------------------------------------------------
  { class: 'malformed-cookie', name: 'session cookie without =', redis: true, request: get('/api/x', withCookie('gatehouse.session')), expect: gated },
  { class: 'malformed-cookie', name: 'quoted session cookie', redis: true, request: get('/api/x', withCookie('gatehouse.session="Fe26.2**abc"')), expect: gated },
  { class: 'malformed-cookie', name: 'unicode session cookie (raw UTF-8 bytes)', redis: true, request: get('/api/x', withCookie(utf8AsLatin1('gatehouse.session=ü€😀; gatehouse.session.1=☃'))), expect: { ...gated, status: [400, 401] } },
  { class: 'malformed-cookie', name: 'huge single session value (15 KB)', redis: true, request: get('/api/x', withCookie(`gatehouse.session=Fe26.2*1*${'A'.repeat(15_000)}`)), expect: { ...gated, maxMs: 1_000 } },
  { class: 'malformed-cookie', name: 'iron-shaped garbage session', redis: true, request: get('/api/x', withCookie('gatehouse.session=Fe26.2*1*aaaa*bbbb*cccc*9999999999999*dddd*eeee~2')), expect: gated },
  { class: 'malformed-cookie', name: 'separators only', redis: true, request: get('/api/x', withCookie(';;; = ;=;gatehouse.session=;')), expect: gated },
  { class: 'malformed-cookie', name: 'malformed cookies on / (navigation) → login', redis: true, request: get('/', withCookie('gatehouse.session="x"; gatehouse.session.1; =; gatehouse.logout=%%%', NAV)), expect: toLogin },
  { class: 'malformed-cookie', name: 'malformed cookies on /oauth2/session → 401', redis: true, request: get('/oauth2/session', withCookie('gatehouse.session=%ZZ; gatehouse.session.1="')), expect: { status: 401 } },
  { class: 'malformed-cookie', name: 'malformed cookies on /oauth2/session/refresh → 401', redis: true, request: { method: 'POST', target: '/oauth2/session/refresh', headers: withCookie('gatehouse.session=garbage'), body: '' }, expect: { status: 401 } },
  { class: 'malformed-cookie', name: 'malformed cookies on /oauth2/logout → normal logout redirect', redis: true, request: get('/oauth2/logout', withCookie('gatehouse.session=garbage; gatehouse.logout=garbage', NAV)), expect: { status: 302 } },
  { class: 'malformed-cookie', name: 'malformed cookies on /oauth2/logout/callback → normal redirect', redis: true, request: get('/oauth2/logout/callback?state=x', withCookie('gatehouse.logout=garbage', NAV)), expect: { status: 302 } },
  { class: 'malformed-cookie', name: 'garbage login cookie matching the state → error page', request: get('/oauth2/callback?state=AAAAAAAA.x&code=y', withCookie('gatehouse.login.AAAAAAAA=garbage', NAV)), expect: { status: 400, check: (res, ctx) => noSession(res, ctx) } },

  // --- garbage on the callback ---------------------------------------------------------------
  { class: 'callback-garbage', name: 'no parameters', request: get('/oauth2/callback', NAV), expect: { status: 400 } },
  { class: 'callback-garbage', name: 'garbage state and code', request: get('/oauth2/callback?state=garbage&code=garbage', NAV), expect: { status: 400 } },
  { class: 'callback-garbage', name: 'repeated state and code', request: get('/oauth2/callback?state=a&state=b&code=a&code=b&iss=x&iss=y', NAV), expect: { status: 400 } },
  { class: 'callback-garbage', name: '10 KB state', request: get(`/oauth2/callback?code=x&state=${'A'.repeat(10_000)}`, NAV), expect: { status: 400 } },
  { class: 'callback-garbage', name: 'invalid percent-encoding in the query', request: get('/oauth2/callback?state=%ZZ&code=%C0%AE&iss=%00', NAV), expect: { status: 400 } },
  { class: 'callback-garbage', name: 'IdP error with a script in error_description is not echoed', request: get('/oauth2/callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=x', NAV), expect: { status: 403, check: (res) => assert.doesNotMatch(res.body.toString(), /<script>alert|alert\(1\)/) } },
  { class: 'callback-garbage', name: 'unknown IdP error code with markup', request: get('/oauth2/callback?error=%3Cimg%20src%3Dx%3E&state=x', NAV), expect: { status: 400, check: (res) => assert.doesNotMatch(res.body.toString(), /<img src=x>/) } },
  { class: 'callback-garbage', name: 'POST to the callback', request: { method: 'POST', target: '/oauth2/callback', headers: [...NAV.slice(2), ['Content-Type', 'application/x-www-form-urlencoded']], body: 'code=x&state=y' }, expect: { status: [400, 405] } },

  // --- iss mix-up (RFC 9207) with a real login attempt ------------------------------------------
  ...(['https://evil.example', null] as const).map((iss): Case => ({
    class: 'iss-mixup', name: iss ? `iss=${iss} with a real state and code → error page, no session` : 'iss missing with a real state and code → error page, no session', redis: true,
    request: async (ctx) => {
      const { cookie, callback } = await callbackOfRealLogin(ctx);
      assert.equal(callback.searchParams.get('iss'), ctx.stack.idp.issuer);
      if (iss) callback.searchParams.set('iss', iss);
      else callback.searchParams.delete('iss');
      return get(callback.pathname + callback.search, withCookie(cookie, NAV));
    },
    expect: { status: 400, location: 'none', check: (res, ctx, sent) => noSession(res, ctx, sent.headers?.find(([n]) => n === 'Cookie')?.[1]) },
  })),
  {
    class: 'iss-mixup', name: "a real state and code from another browser's login attempt → error page, no session", redis: true,
    request: async (ctx) => {
      const { callback } = await callbackOfRealLogin(ctx);
      return get(callback.pathname + callback.search, NAV);
    },
    expect: { status: 400, location: 'none', check: (res, ctx) => noSession(res, ctx) },
  },

  // --- invalid encodings in paths ------------------------------------------------------------------
  ...['/api/%C0%AE%C0%AE/x', '/api/%00', '/%FF', '/api/%', '/api/%zz/x', '/oauth2/%00', '/%C0%AE%C0%AE/oauth2/login', '/api/x%0d%0aX-Injected:%20yes'].map(
    (target): Case => ({ class: 'bad-path', name: target, request: get(target), expect: refused }),
  ),
  { class: 'bad-path', name: '/%FF as a navigation → 400 page', request: get('/%FF', NAV), expect: refused },
  { class: 'bad-path', name: 'raw 0xFF byte in the request target', request: { raw: `GET /api/\xff HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n` }, expect: refused },
  { class: 'bad-path', name: 'absolute-form target to another host', request: get('http://evil.example/api/public/x'), expect: { status: [400, 404], upstream: 'untouched' } },
  { class: 'bad-path', name: 'asterisk-form target', request: { method: 'OPTIONS', target: '*' }, expect: { status: [400, 404], upstream: 'untouched' } },

  // --- path tricks against the auto-login ignore globs -----------------------------------------
  ...['/api/public/../secret', '/api/public/%2e%2e/secret', '/api/public/%2E%2E%2Fsecret', '/api/public/..%2Fsecret', '/api/public/%252e%252e/secret',
    '/api/public/..;/secret', '/api/public/%5c..%5csecret', '/api/public/.%2e/secret', '/api/secret%2F..%2Fpublic', '/api/secret%2f%2e%2e%2fpublic/x',
    '/api/public/x/../../secret', '/api/public/..', '/API/PUBLIC/x', '/Api/public/x', '/api/healthz', '/api/health.rsc', '/api/health;x=1', '/api/health%20', '/api/public%00/x',
  ].map((target): Case => ({ class: 'ignore-glob', name: `${target} stays protected (or 400)`, request: get(target), expect: protectedOrRefused })),
  { class: 'ignore-glob', name: '/api/public\\..\\secret (raw backslashes)', request: get('/api/public\\..\\secret'), expect: protectedOrRefused },
  { class: 'ignore-glob', name: '/API/PUBLIC/x as a navigation → login', request: get('/API/PUBLIC/x', NAV), expect: toLogin },
  { class: 'ignore-glob', name: '/api//public/x normalises to /api/public/x (ignored)', request: get('/api//public/x'), expect: upstreamGot('/public/x') },
  { class: 'ignore-glob', name: '/api/./public/x normalises to /api/public/x (ignored)', request: get('/api/./public/x'), expect: upstreamGot('/public/x') },
  { class: 'ignore-glob', name: '/api/health/ (trailing slash) is the ignored /api/health', request: get('/api/health/'), expect: upstreamGot('/health/') },
  { class: 'ignore-glob', name: '/api/health is ignored', request: get('/api/health'), expect: upstreamGot('/health') },
  { class: 'ignore-glob', name: '/api/public/x?_rsc=1 is ignored, query kept', request: get('/api/public/x?_rsc=1'), expect: upstreamGot('/public/x?_rsc=1') },
  { class: 'ignore-glob', name: '/api/public/x?../../secret (dots in the query only)', request: get('/api/public/x?../../secret'), expect: upstreamGot('/public/x?../../secret') },

  // --- request smuggling basics ------------------------------------------------------------------
  {
    class: 'smuggling', name: 'Transfer-Encoding + Content-Length → 400, the smuggled request never arrives',
    request: { raw: 'POST /api/public/front HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/public/smuggled HTTP/1.1\r\nHost: h\r\n\r\n' }, expect: refused,
  },
  { class: 'smuggling', name: 'two different Content-Length values → 400', request: { raw: 'POST /api/public/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 30\r\nConnection: close\r\n\r\nabc' }, expect: refused },
  { class: 'smuggling', name: 'space before the colon of Transfer-Encoding → 400', request: { raw: 'POST /api/public/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\nConnection: close\r\n\r\n0\r\n\r\n' }, expect: refused },
  { class: 'smuggling', name: 'Transfer-Encoding: chunked, identity → 400', request: { raw: 'POST /api/public/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\nConnection: close\r\n\r\n0\r\n\r\n' }, expect: refused },
  { class: 'smuggling', name: 'obsolete line folding → 400', request: { raw: 'GET /api/public/x HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n' }, expect: refused },
  { class: 'smuggling', name: 'control character in a header value → 400', request: { raw: 'GET /api/public/x HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\nConnection: close\r\n\r\n' }, expect: refused },
  { class: 'smuggling', name: 'HTTP/1.1 without Host → 400', request: { raw: 'GET /api/public/x HTTP/1.1\r\nConnection: close\r\n\r\n' }, expect: refused },
  { class: 'smuggling', name: 'unknown method → 400/405/501', request: { raw: 'FOO /api/public/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' }, expect: { status: [400, 405, 501], upstream: 'untouched' } },
  {
    class: 'smuggling', name: 'invalid chunk size mid-body on an ignored path → 400, no complete upstream request',
    request: { raw: 'POST /api/public/chunks HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\nZZ\r\nxx\r\n0\r\n\r\n' }, expect: refused,
  },

  // --- CR/LF and other header injection from input --------------------------------------------------
  { class: 'header-injection', name: 'CR/LF in the login redirect', request: get('/oauth2/login?redirect=/%0d%0aX-Injected:%20yes%0d%0aSet-Cookie:%20injected=1', NAV), expect: { status: 302, location: 'idp' } },
  { class: 'header-injection', name: 'CR/LF in the query of a gated path', request: get('/api/x?q=%0d%0aX-Injected:%20yes', NAV), expect: toLogin },
  { class: 'header-injection', name: 'CR/LF in the logout redirect', request: get('/oauth2/logout?redirect=/%0D%0AX-Injected:%20yes', NAV), expect: { status: 302 } },
  { class: 'header-injection', name: 'X-Request-Id with non-ASCII bytes is replaced', request: get('/api/x', [...FETCH, ['X-Request-Id', utf8AsLatin1('abc\u2028def')]]), expect: { ...gated, check: (res) => assert.match(res.header('x-request-id') ?? '', /^[0-9a-f-]{36}$/) } },
  { class: 'header-injection', name: 'X-Request-Id of 300 characters is replaced', request: get('/api/x', [...FETCH, ['X-Request-Id', 'r'.repeat(300)]]), expect: { ...gated, check: (res) => assert.match(res.header('x-request-id') ?? '', /^[0-9a-f-]{36}$/) } },
  { class: 'header-injection', name: 'a well-formed X-Request-Id is echoed', request: get('/api/x', [...FETCH, ['X-Request-Id', 'req-<1>"%0d%0a']]), expect: { ...gated, check: (res) => assert.equal(res.header('x-request-id'), 'req-<1>"%0d%0a') } },

  // --- bodies that are declared huge, and work that must stay linear -----------------------------------
  ...(['/oauth2/logout/backchannel', '/oauth2/session/refresh', '/oauth2/login', '/api/x', '/']).map((target): Case => ({
    class: 'oversized-body', name: `POST ${target} declaring a 1 GB body (10 bytes sent) → answered at once, no waiting for the body`,
    request: { raw: `POST ${target} HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\nlogout_tok` },
    expect: { status: [400, 401, 405, 413], upstream: 'untouched', maxMs: 2_000 },
  })),
  { class: 'oversized-body', name: 'back-channel logout with a 1 MB chunked body → 400/413', request: { method: 'POST', target: '/oauth2/logout/backchannel', headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Transfer-Encoding', 'chunked']], body: `${(1024 * 1024 + 15).toString(16)}\r\nlogout_token=${'A'.repeat(1024 * 1024 + 2)}\r\n0\r\n\r\n` }, expect: { status: [400, 413] } },
  { class: 'linear-work', name: '4,000 dot segments under an ignored path → resolved, fast', request: get(`/api/public/${'./'.repeat(4000)}x`), expect: { ...upstreamGot('/public/x'), maxMs: 1_000 } },
  { class: 'linear-work', name: '3,000 ../ segments climbing above the root → a page path, gated, fast', request: get(`/api/${'../'.repeat(3000)}secret`), expect: { ...gated, upstream: 'untouched', maxMs: 1_000 } },
  { class: 'linear-work', name: '12 KB Accept header of text/html;q=0 ranges → not a navigation, fast', request: get('/api/x', [['Accept', Array.from({ length: 850 }, () => 'text/html;q=0').join(',')]]), expect: { ...gated, maxMs: 1_000 } },
  { class: 'linear-work', name: 'Expect: 100-continue on a gated path → 401 without waiting for the body', request: { raw: 'POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n' }, expect: { status: 401, upstream: 'untouched', maxMs: 2_000 } },
  { class: 'header-injection', name: 'two X-Request-Id headers are replaced by one new id', request: get('/api/x', [...FETCH, ['X-Request-Id', 'a'], ['X-Request-Id', 'b']]), expect: { ...gated, check: (res) => assert.deepEqual(res.headers.filter(([n]) => n === 'x-request-id').map(([, v]) => /^[0-9a-f-]{36}$/.test(v)), [true]) } },

  // --- upgrades --------------------------------------------------------------------------------------
  { class: 'upgrade', name: 'WebSocket upgrade to /api/ws without a session → 401', request: get('/api/ws', [...WS, ['Authorization', 'Bearer forged']]), expect: { status: 401, upstream: 'untouched' } },
  { class: 'upgrade', name: 'WebSocket upgrade to /oauth2/login → 404', request: get('/oauth2/login', WS), expect: { status: [400, 404], upstream: 'untouched' } },
  { class: 'upgrade', name: 'upgrade with a bad path → 400', request: get('/api/%C0%AE', WS), expect: { status: [400, 404], upstream: 'untouched' } },
];

