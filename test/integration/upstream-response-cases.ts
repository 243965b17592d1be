// The table of upstream-response cases (upstream-responses.test.ts runs it), issue 7 items 6 and 7:
// - item 6: a response that carries a Gatehouse Set-Cookie is never storable by a shared cache,
//   whatever caching the upstream (or Next, for Gatehouse's own pages) asked for;
// - item 7: an upstream cannot act as Gatehouse toward the browser: its Set-Cookie for a name
//   Gatehouse owns is dropped, and Location / Content-Location / Refresh pointing at its own
//   internal origin reach the browser rewritten to the ingress.
// Each row makes the recording upstream answer with exactly the header lines it lists (dev
// upstream `/respond`), through the route the row names.

import assert from 'node:assert/strict';
import type { Stack } from '../harness/stack';
import type { Hdrs, RawResponse } from './raw-http';

export interface Ctx {
  stack: Stack;
  /** The upstream's own origin, as the routes name it: http://127.0.0.1:<port>. */
  origin: string;
  port: number;
  /** The ingress origin the browser uses. */
  appOrigin: string;
  /** Cookie header of a cookie-store session whose inactivity touch is due (Gatehouse will re-seal it). */
  dueSession: string;
  /** The cookie prefix the app runs with. */
  prefix: string;
}

export interface UpstreamAnswer {
  status?: number;
  headers: Hdrs;
}

export interface ResponseCase {
  item: 6 | 7;
  name: string;
  /** What the upstream answers; absent: the request is for Gatehouse's own pages (`path`). */
  upstream?: (ctx: Ctx) => UpstreamAnswer;
  /** The route prefix the request goes through (default /api); the upstream path is …/respond. */
  route?: '/api' | '/v1' | '/lh';
  /** Gatehouse's own page to request instead of an upstream route. */
  path?: string;
  /** Extra request headers (default: those of a fetch from page script). */
  requestHeaders?: Hdrs;
  /** Send the session whose touch is due, so Gatehouse attaches its own Set-Cookie. */
  session?: boolean;
  /** Send the request as a WebSocket handshake. */
  websocket?: boolean;
  /** Run with COOKIE_PREFIX=acme instead of the default prefix. */
  prefix?: 'acme';
  expect: (res: RawResponse, ctx: Ctx, sent: UpstreamAnswer | undefined) => void;
}

const values = (res: RawResponse, name: string) => res.headers.filter(([n]) => n === name).map(([, v]) => v);
const setCookies = (res: RawResponse) => values(res, 'set-cookie');
/** A cookie's name as a browser reads a Set-Cookie line (RFC 6265bis §5.6: no `=` means no name). */
const cookieName = (line: string) => {
  const pair = line.split(';', 1)[0];
  return pair.includes('=') ? pair.slice(0, pair.indexOf('=')).trim() : '';
};

// ---- item 6: not storable by shared caches -------------------------------------------------------

/** Header names that tell a CDN or shared cache (and only it) how long to keep a response. */
const CDN_CACHING = /^(cdn-cache-control|[a-z0-9-]+-cdn-cache-control|surrogate-control|edge-control|x-accel-expires)$/;

/** The rule of item 6, with its precondition: Gatehouse did attach its session cookie. */
export function privateToSharedCaches(res: RawResponse, ctx: Ctx): void {
  const own = setCookies(res).filter((l) => cookieName(l) === `${ctx.prefix}.session` && !/max-age=0/i.test(l));
  assert.ok(own.length > 0, `precondition: Gatehouse attaches its re-sealed session cookie (touch due); Set-Cookie: ${JSON.stringify(setCookies(res))}`);
  const cc = values(res, 'cache-control').join(', ');
  const directives = cc.split(',').map((d) => d.trim().toLowerCase().split('=')[0].trim()).filter(Boolean);
  assert.ok(directives.includes('private') || directives.includes('no-store'), `Cache-Control must say private or no-store with our Set-Cookie, got ${JSON.stringify(cc)}`);
  for (const shared of ['public', 's-maxage']) assert.ok(!directives.includes(shared), `Cache-Control keeps ${shared}: ${JSON.stringify(cc)}`);
  const cdn = res.headers.filter(([n]) => CDN_CACHING.test(n));
  assert.deepEqual(cdn, [], 'a CDN-targeted caching header survived');
}

const cached = (name: string, ...headers: Hdrs): ResponseCase => ({
  item: 6,
  name,
  session: true,
  upstream: () => ({ headers }),
  expect: privateToSharedCaches,
});

const inAnHour = () => new Date(Date.now() + 3600_000).toUTCString();

const item6: ResponseCase[] = [
  cached('Cache-Control: public, max-age=3600', ['Cache-Control', 'public, max-age=3600']),
  cached('Cache-Control: PUBLIC,MAX-AGE=3600 (case, no space)', ['Cache-Control', 'PUBLIC,MAX-AGE=3600']),
  cached('Cache-Control: s-maxage=600', ['Cache-Control', 's-maxage=600']),
  cached('Cache-Control: max-age=60 only', ['Cache-Control', 'max-age=60']),
  cached('Cache-Control: no-cache (stored, revalidated)', ['Cache-Control', 'no-cache']),
  cached('Cache-Control: public, immutable, must-revalidate', ['Cache-Control', 'public, max-age=31536000, immutable, must-revalidate']),
  cached('no Cache-Control at all (heuristic caching)', ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT']),
  { ...cached('Expires in the future', ['Expires', '']), upstream: () => ({ headers: [['Expires', inAnHour()]] }) },
  cached('two Cache-Control lines (public / max-age)', ['Cache-Control', 'public'], ['Cache-Control', 'max-age=3600']),
  cached('two Cache-Control lines (private / s-maxage)', ['Cache-Control', 'private'], ['Cache-Control', 's-maxage=600']),
  cached('CDN-Cache-Control: max-age=600', ['CDN-Cache-Control', 'max-age=600']),
  cached('Surrogate-Control: max-age=600', ['Surrogate-Control', 'max-age=600']),
  cached('Cloudflare-CDN-Cache-Control: max-age=600', ['Cloudflare-CDN-Cache-Control', 'max-age=600']),
  cached('Vercel-CDN-Cache-Control: max-age=600', ['Vercel-CDN-Cache-Control', 'max-age=600']),
  cached('Edge-Control: cache-maxage=600s (Akamai)', ['Edge-Control', 'cache-maxage=600s']),
  cached('X-Accel-Expires: 600 (nginx)', ['X-Accel-Expires', '600']),
  cached('all of them at once', ['Cache-Control', 'public, s-maxage=600'], ['CDN-Cache-Control', 'max-age=600'], ['Surrogate-Control', 'max-age=600'], ['Expires', 'Fri, 01 Jan 2100 00:00:00 GMT']),
  {
    ...cached('Cache-Control: no-store stays no-store', ['Cache-Control', 'no-store']),
    expect: (res, ctx) => {
      privateToSharedCaches(res, ctx);
      assert.match(values(res, 'cache-control').join(', '), /no-store/, 'no-store must stay');
    },
  },
  { item: 6, name: "Gatehouse's own page GET / (navigation)", path: '/', session: true, requestHeaders: [['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Dest', 'document'], ['Accept', 'text/html']], expect: privateToSharedCaches },
  // Next answers an RSC request without its cache-busting `_rsc` query with a 307 to add it.
  { item: 6, name: "Gatehouse's own page GET / as an RSC request without _rsc (Next's 307)", path: '/', session: true, requestHeaders: [['RSC', '1'], ['Accept', '*/*']], expect: privateToSharedCaches },
  { item: 6, name: "Gatehouse's own page GET /?_rsc as an RSC request (flight data)", path: '/?_rsc', session: true, requestHeaders: [['RSC', '1'], ['Accept', '*/*']], expect: privateToSharedCaches },
  { item: 6, name: "Gatehouse's own 404 page", path: '/no-such-page', session: true, requestHeaders: [['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Dest', 'document'], ['Accept', 'text/html']], expect: privateToSharedCaches },
];

// ---- item 7: upstream Set-Cookie for Gatehouse's names -------------------------------------------

/** The upstream's Set-Cookie lines are all dropped; the request had no session, so nothing else is set. */
const noCookie = (res: RawResponse) => assert.deepEqual(setCookies(res), [], 'an upstream Set-Cookie for a Gatehouse cookie reached the browser');

const ownCookie = (line: string, prefix?: 'acme'): ResponseCase => ({
  item: 7,
  name: `Set-Cookie: ${JSON.stringify(line)} is dropped${prefix ? ` (COOKIE_PREFIX=${prefix})` : ''}`,
  prefix,
  upstream: () => ({ headers: [['Set-Cookie', line]] }),
  expect: noCookie,
});

const cookies: ResponseCase[] = [
  ...[
    'gatehouse.session=x',
    'gatehouse.session=x; Path=/; HttpOnly',
    'gatehouse.session.1=x',
    'gatehouse.login.abc=x',
    'gatehouse.logout=x',
    'GATEHOUSE.SESSION=x',
    ' gatehouse.session =x',
    '=gatehouse.session=x',
    'gatehouse.session',
    '__Secure-gatehouse.session=x',
    '__Host-gatehouse.session=x',
    'gatehouse.session=x; Domain=127.0.0.1; Path=/api',
  ].map((line) => ownCookie(line)),
  ...['acme.session=x', 'acme.session.1=x', 'acme.login.abc=x', 'acme.logout=x', 'ACME.Session=x', '__Host-acme.session=x'].map((line) => ownCookie(line, 'acme')),
  {
    item: 7,
    name: 'an unrelated upstream cookie passes through',
    upstream: () => ({ headers: [['Set-Cookie', 'upstream=1; Path=/']] }),
    expect: (res) => assert.deepEqual(setCookies(res), ['upstream=1; Path=/']),
  },
  {
    item: 7,
    name: 'an unrelated upstream cookie passes through (COOKIE_PREFIX=acme)',
    prefix: 'acme',
    upstream: () => ({ headers: [['Set-Cookie', 'upstream=1; Path=/']] }),
    expect: (res) => assert.deepEqual(setCookies(res), ['upstream=1; Path=/']),
  },
  {
    item: 7,
    name: 'mixed: of two upstream cookies only the unrelated one passes',
    upstream: () => ({ headers: [['Set-Cookie', 'gatehouse.session=x; Path=/'], ['Set-Cookie', 'upstream=1; Path=/']] }),
    expect: (res) => assert.deepEqual(setCookies(res), ['upstream=1; Path=/']),
  },
  {
    item: 7,
    name: "with a session whose touch is due: only Gatehouse's own session cookie reaches the browser",
    session: true,
    upstream: () => ({ headers: [['Set-Cookie', 'gatehouse.session=forged; Path=/'], ['Set-Cookie', 'gatehouse.session.1=forged; Path=/']] }),
    expect: (res) => {
      const lines = setCookies(res);
      assert.ok(!lines.some((l) => l.includes('forged')), `the upstream's session cookie reached the browser: ${JSON.stringify(lines)}`);
      assert.ok(lines.some((l) => cookieName(l) === 'gatehouse.session'), `Gatehouse's own re-sealed cookie is there: ${JSON.stringify(lines)}`);
    },
  },
  {
    item: 7,
    name: 'WebSocket 101 from the upstream with Set-Cookie: gatehouse.session=x',
    websocket: true,
    upstream: () => ({ status: 101, headers: [['Set-Cookie', 'gatehouse.session=x; Path=/']] }),
    expect: noCookie,
  },
  {
    item: 7,
    name: 'declined WebSocket upgrade (403) with Set-Cookie: gatehouse.session=x',
    websocket: true,
    upstream: () => ({ status: 403, headers: [['Set-Cookie', 'gatehouse.session=x; Path=/']] }),
    expect: noCookie,
  },
];

// ---- item 7: Location / Content-Location / Refresh -------------------------------------------------

/** A URL the browser gets must be on the ingress: relative to its origin, or absolute on it. */
function onIngress(value: string | undefined, ctx: Ctx, want: string | string[], what: string): void {
  assert.ok(value !== undefined, `${what} is missing`);
  const relative = /^\/(?![/\\])/.test(value);
  assert.ok(relative || value.startsWith(`${ctx.appOrigin}/`) || value === ctx.appOrigin, `${what} ${JSON.stringify(value)} is neither relative nor on the ingress ${ctx.appOrigin}`);
  const u = new URL(value, ctx.appOrigin);
  assert.equal(u.origin, ctx.appOrigin, `${what} ${JSON.stringify(value)}`);
  const wants = [want].flat();
  assert.ok(wants.includes(u.pathname + u.search + u.hash), `${what} ${JSON.stringify(value)} should lead to ${wants.join(' or ')}`);
}

const header = (res: RawResponse, name: string) => values(res, name)[0];

const location = (name: string, value: (ctx: Ctx) => string, want: string | string[], o: { route?: ResponseCase['route']; status?: number } = {}): ResponseCase => ({
  item: 7,
  name: `Location: ${name}`,
  route: o.route,
  upstream: (ctx) => ({ status: o.status ?? 302, headers: [['Location', value(ctx)]] }),
  expect: (res, ctx) => {
    const got = values(res, 'location');
    assert.equal(got.length, 1, `one Location, got ${JSON.stringify(got)}`);
    onIngress(got[0], ctx, want as string, 'Location');
  },
});

/** The URL of a Refresh header value (`5; url=…`, quotes allowed), and its delay. */
function refreshParts(value: string | undefined): { delay: string; url: string } | null {
  const m = /^\s*(\d+)\s*[;,]\s*url\s*=\s*(.*?)\s*$/i.exec(value ?? '');
  return m ? { delay: m[1], url: m[2].replace(/^(['"])(.*)\1$/, '$2') } : null;
}

const unchanged = (name: string, headerName: string, value: (ctx: Ctx) => string, status = 302): ResponseCase => ({
  item: 7,
  name,
  upstream: (ctx) => ({ status, headers: [[headerName, value(ctx)]] }),
  expect: (res, ctx) => assert.deepEqual(values(res, headerName.toLowerCase()), [value(ctx)], `${headerName} must pass unchanged`),
});

const redirects: ResponseCase[] = [
  location('<upstream origin>/x', (c) => `${c.origin}/x`, '/api/x'),
  location('<upstream origin>/x?q=1#frag (query and fragment kept)', (c) => `${c.origin}/x?q=1#frag`, '/api/x?q=1#frag'),
  location('<upstream origin> (no path)', (c) => c.origin, ['/api', '/api/']),
  location('<upstream origin>/ (root)', (c) => `${c.origin}/`, ['/api', '/api/']),
  location('uppercase scheme HTTP://127.0.0.1:<port>/x', (c) => `HTTP://127.0.0.1:${c.port}/x`, '/api/x'),
  location('uppercase host HTTP://LOCALHOST:<port>/x on /lh=http://localhost:<port>', (c) => `HTTP://LOCALHOST:${c.port}/x`, '/lh/x', { route: '/lh' }),
  location('leading zeros in the port http://127.0.0.1:0<port>/x', (c) => `http://127.0.0.1:0${c.port}/x`, '/api/x'),
  location('trailing dot in the host http://127.0.0.1.:<port>/x', (c) => `http://127.0.0.1.:${c.port}/x`, '/api/x'),
  location('decimal IPv4 http://2130706433:<port>/x', (c) => `http://2130706433:${c.port}/x`, '/api/x'),
  location('protocol-relative //127.0.0.1:<port>/x', (c) => `//127.0.0.1:${c.port}/x`, '/api/x'),
  location('backslashes http:\\\\127.0.0.1:<port>\\x', (c) => `http:\\\\127.0.0.1:${c.port}\\x`, '/api/x'),
  location('slash-backslash /\\127.0.0.1:<port>/x', (c) => `/\\127.0.0.1:${c.port}/x`, '/api/x'),
  location('userinfo http://u:p@127.0.0.1:<port>/x', (c) => `http://u:p@127.0.0.1:${c.port}/x`, '/api/x'),
  location('the other scheme https://127.0.0.1:<port>/x', (c) => `https://127.0.0.1:${c.port}/x`, '/api/x'),
  location('another loopback name http://localhost:<port>/x', (c) => `http://localhost:${c.port}/x`, '/api/x'),
  location('on a 201 Created', (c) => `${c.origin}/x`, '/api/x', { status: 201 }),
  location('route with a base path: /v1=<origin>/base, <origin>/base/users', (c) => `${c.origin}/base/users`, '/v1/users', { route: '/v1' }),
  location('route with a base path: /v1=<origin>/base, <origin>/base', (c) => `${c.origin}/base`, ['/v1', '/v1/'], { route: '/v1' }),
  {
    item: 7,
    name: 'Content-Location: <upstream origin>/x',
    upstream: (c) => ({ headers: [['Content-Location', `${c.origin}/x`]] }),
    expect: (res, ctx) => onIngress(header(res, 'content-location'), ctx, '/api/x', 'Content-Location'),
  },
  ...([
    ['Refresh: 0; url=<origin>/x', (c: Ctx) => `0; url=${c.origin}/x`, '0'],
    ["Refresh: 5;URL='<origin>/x'", (c: Ctx) => `5;URL='${c.origin}/x'`, '5'],
    ['Refresh: 3; url="//127.0.0.1:<port>/x"', (c: Ctx) => `3; url="//127.0.0.1:${c.port}/x"`, '3'],
  ] as const).map(([name, value, delay]): ResponseCase => ({
    item: 7,
    name,
    upstream: (c) => ({ headers: [['Refresh', value(c)]] }),
    expect: (res, ctx) => {
      const parts = refreshParts(header(res, 'refresh'));
      assert.ok(parts, `Refresh ${JSON.stringify(header(res, 'refresh'))} has no url`);
      assert.equal(parts.delay, delay, 'the delay is kept');
      onIngress(parts.url, ctx, '/api/x', 'Refresh url');
    },
  })),
  ...([
    ["Refresh: 0;url='<origin>'x (HTML ends the URL at the quote)", (c: Ctx) => `0;url='${c.origin}'x`],
    ['Refresh: 0;url="<origin>"# (HTML ends the URL at the quote)', (c: Ctx) => `0;url="${c.origin}"#`],
  ] as const).map(([name, value]): ResponseCase => ({
    item: 7,
    name,
    upstream: (c) => ({ headers: [['Refresh', value(c)]] }),
    expect: (res, ctx) => {
      const parts = refreshParts(header(res, 'refresh'));
      assert.ok(parts, `Refresh ${JSON.stringify(header(res, 'refresh'))} has no url`);
      onIngress(parts.url, ctx, ['/api', '/api/'], 'Refresh url');
    },
  })),
  {
    item: 7,
    name: 'two Content-Location headers naming the upstream (Node joins them): none reaches the browser',
    upstream: (c) => ({ headers: [['Content-Location', `${c.origin}/a`], ['Content-Location', `${c.origin}/b`]] }),
    expect: (res) => assert.deepEqual(values(res, 'content-location'), []),
  },
  unchanged('a relative Location: /somewhere is never rewritten', 'Location', () => '/somewhere'),
  unchanged('a foreign absolute Location: https://example.com/x is never rewritten', 'Location', () => 'https://example.com/x'),
  unchanged('a foreign Content-Location: https://example.com/x is never rewritten', 'Content-Location', () => 'https://example.com/x', 200),
  unchanged('Refresh: 5 (no url) is never rewritten', 'Refresh', () => '5', 200),
  {
    item: 7,
    name: 'declined WebSocket upgrade (302) with Location: <upstream origin>/x',
    websocket: true,
    upstream: (c) => ({ status: 302, headers: [['Location', `${c.origin}/x`]] }),
    expect: (res, ctx) => onIngress(header(res, 'location'), ctx, '/api/x', 'Location'),
  },
];

export const cases: ResponseCase[] = [...item6, ...cookies, ...redirects];
