// Enforce mode covers every path of an upstream route (SPEC §4 item 2, issue 7 item 2). The
// always-public list (favicon, robots, build assets) is for what Gatehouse's own Next app serves;
// on an upstream route only AUTO_LOGIN_IGNORE_PATHS and ERROR_PATH pass without a session. Without
// that, a protected Next.js app behind Gatehouse in sidecar mode serves its private images through
// `/_next/image?url=…` and its build output through `/_next/static/…` to anyone.
//
// Three stacks: a sidecar (`UPSTREAMS=/=…`), the default `/api=…` prefix, and Gatehouse's own app
// pages on that default stack (which must keep serving their own assets without a session).
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/enforce-upstream.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RecordedRequest } from '../../dev/upstream';
import { sessionCookieOf } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { json } from './hostile-cases';
import { FETCH, NAV, build, get, raw, withCookie, type Hdrs, type RawResponse, type RawSpec } from './raw-http';

/** Every path an upstream Next.js app (or any app) serves that used to be "always public". */
const SIDECAR_PATHS = [
  '/_next/image?url=%2Fprivate.png&w=64&q=75',
  '/_next/image',
  '/_next/static/chunks/app.js',
  '/_next/static/media/private.png',
  '/_next/webpack-hmr',
  '/_next/data/build/page.json',
  '/favicon.ico',
  '/robots.txt',
  // Case and encoding variants: each must be read as the path it means, and that path is protected.
  '/_NEXT/static/x',
  '/%5Fnext/static/x',
  '/%5fnext/image?url=%2Fprivate.png',
  '/_next//static/x',
  '/_next/./static/x',
  '/x/../_next/static/a.js',
  '/_next/static/x.js?v=1',
  '/_next/image/',
  '/favicon.ico/',
  '/%66avicon.ico',
];

/** How each method is sent: a navigation and a fetch for GET; HEAD as a browser would send a
 *  navigation (HEAD is never one); POST with a body; OPTIONS as a CORS preflight (no cookies). */
interface Kind {
  name: string;
  spec: (target: string, cookie?: string) => RawSpec;
  /** What the gate answers without a session. */
  gated: { status: number; json: boolean };
}
const withOptionalCookie = (headers: Hdrs, cookie?: string) => (cookie ? withCookie(cookie, headers) : headers);
const KINDS: Kind[] = [
  { name: 'GET navigation', spec: (t, c) => get(t, withOptionalCookie(NAV, c)), gated: { status: 302, json: false } },
  { name: 'GET fetch', spec: (t, c) => get(t, withOptionalCookie(FETCH, c)), gated: { status: 401, json: true } },
  { name: 'HEAD', spec: (t, c) => ({ method: 'HEAD', target: t, headers: withOptionalCookie(NAV, c) }), gated: { status: 401, json: false } },
  { name: 'POST', spec: (t, c) => ({ method: 'POST', target: t, headers: withOptionalCookie([...FETCH, ['Content-Type', 'application/json']], c), body: '{"a":1}' }), gated: { status: 401, json: true } },
  {
    name: 'OPTIONS',
    spec: (t, c) => ({ method: 'OPTIONS', target: t, headers: withOptionalCookie([['Origin', 'http://other.example'], ['Access-Control-Request-Method', 'GET'], ['Sec-Fetch-Mode', 'cors']], c) }),
    gated: { status: 401, json: true },
  },
];

interface Ctx {
  stack: Stack;
  host: string;
  session: string;
}

async function send(ctx: Ctx, spec: RawSpec): Promise<{ res: RawResponse; received: RecordedRequest[] }> {
  const before = ctx.stack.upstream.requests.length;
  const res = await raw(ctx.stack.port, build(spec, ctx.host), spec.method === 'HEAD');
  return { res, received: ctx.stack.upstream.requests.slice(before) };
}

const describeRes = (res: RawResponse) => `${res.status}\n${res.lines.join('\n')}\n${res.body.toString().slice(0, 300)}`;

/** The gate's answer without a session: 302 or 401 to the login, and nothing reached the upstream. */
function assertGated(res: RawResponse, received: RecordedRequest[], kind: Kind, ctx: Ctx) {
  assert.deepEqual(received.map((r) => `${r.method} ${r.url}`), [], 'the upstream must receive nothing');
  assert.equal(res.status, kind.gated.status, describeRes(res));
  const location = new URL(res.header('location') ?? 'missing:', ctx.stack.appUrl);
  assert.equal(location.origin, new URL(ctx.stack.appUrl).origin, `Location ${res.header('location')}`);
  assert.equal(location.pathname, '/oauth2/login', `Location ${res.header('location')}`);
  assert.ok(location.searchParams.has('redirect'), `Location ${res.header('location')}`);
  if (kind.gated.json) {
    const body = json(res);
    assert.equal(body.error, 'unauthenticated', JSON.stringify(body));
    assert.equal(new URL(String(body.login_url), ctx.stack.appUrl).pathname, '/oauth2/login', JSON.stringify(body));
  }
}

/** A navigation's 400: the redirect to ERROR_PATH that carries status_code=400 (SPEC §7). */
function isBadRequestPage(res: RawResponse, ctx: Ctx): boolean {
  const location = new URL(res.header('location') ?? 'missing:', ctx.stack.appUrl);
  return res.status === 302 && location.pathname === '/error' && location.searchParams.get('status_code') === '400';
}

const loggedIn = async (stack: Stack): Promise<string> => (await sessionCookieOf(stack.appUrl)).cookie;

describe('enforce mode on a sidecar upstream (UPSTREAMS=/=…)', { timeout: 120_000 }, () => {
  const ctx = {} as Ctx;
  before(async () => {
    ctx.stack = await startStack({ startApp: false, env: { AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/public/**', ERROR_PATH: '/error' } });
    await ctx.stack.restartApp({ UPSTREAMS: `/=${ctx.stack.upstream.url}` });
    ctx.host = new URL(ctx.stack.appUrl).host;
    ctx.session = await loggedIn(ctx.stack);
  }, { timeout: 60_000 });
  after(() => ctx.stack?.close());

  for (const path of SIDECAR_PATHS) {
    for (const kind of KINDS) {
      test(`no session: ${kind.name} ${path} is gated, the upstream receives nothing`, async () => {
        const { res, received } = await send(ctx, kind.spec(path));
        assertGated(res, received, kind, ctx);
      });
    }
  }

  for (const path of SIDECAR_PATHS) {
    for (const kind of KINDS) {
      test(`with a session: ${kind.name} ${path} is forwarded once, with the Bearer`, async () => {
        const { res, received } = await send(ctx, kind.spec(path, ctx.session));
        assert.equal(res.status, 200, describeRes(res));
        assert.equal(received.length, 1, `exactly one upstream request, got ${received.map((r) => r.url).join(', ')}`);
        assert.equal(received[0].method, kind.spec(path).method ?? 'GET');
        assert.match(String(received[0].headers.authorization), /^Bearer \S+$/);
      });
    }
  }

  // One segment in the raw path, two once decoded: refused outright, or gated — never forwarded.
  for (const path of ['/_next/static%2Fx', '/_next%2Fstatic/x', '/_next/image%2F?url=x', '/_next%5Cstatic/x']) {
    for (const kind of KINDS) {
      test(`no session: ${kind.name} ${path} gets 400 or is gated, never forwarded`, async () => {
        const { res, received } = await send(ctx, kind.spec(path));
        assert.deepEqual(received.map((r) => r.url), [], 'the upstream must receive nothing');
        if (res.status === 400 || isBadRequestPage(res, ctx)) return;
        assertGated(res, received, kind, ctx);
      });
    }
  }

  // Positive controls: what the configuration opens does pass without a session.
  for (const path of ['/public/a', '/public/_next/static/x.js', '/error', '/error?code=x']) {
    test(`no session: ${path} (AUTO_LOGIN_IGNORE_PATHS / ERROR_PATH) is forwarded, without Authorization`, async () => {
      const { res, received } = await send(ctx, get(path, NAV));
      assert.equal(res.status, 200, describeRes(res));
      assert.deepEqual(received.map((r) => r.url), [path]);
      assert.equal(received[0].headers.authorization, undefined);
    });
  }
});

describe('enforce mode on a prefixed upstream, and Gatehouse’s own assets (UPSTREAMS=/api=…)', { timeout: 120_000 }, () => {
  const ctx = {} as Ctx;
  before(async () => {
    ctx.stack = await startStack({ env: { AUTO_LOGIN: 'true' } });
    ctx.host = new URL(ctx.stack.appUrl).host;
  }, { timeout: 60_000 });
  after(() => ctx.stack?.close());

  for (const path of ['/api/_next/image?url=x', '/api/_next/image?url=%2Fprivate.png&w=64&q=75', '/api/favicon.ico', '/api/robots.txt', '/api/_next/static/chunks/app.js', '/api/_next/webpack-hmr']) {
    for (const kind of KINDS) {
      test(`no session: ${kind.name} ${path} is gated, the upstream receives nothing`, async () => {
        const { res, received } = await send(ctx, kind.spec(path));
        assertGated(res, received, kind, ctx);
      });
    }
  }

  /** Served by Gatehouse's own Next app: not gated (neither 401 nor a redirect to login). */
  const assertServedByGatehouse = (res: RawResponse, received: RecordedRequest[]) => {
    assert.deepEqual(received.map((r) => r.url), [], 'nothing goes to the upstream');
    assert.ok(![401, 302, 303, 307].includes(res.status), `gated: ${describeRes(res)}`);
    assert.ok(res.status < 500, describeRes(res));
  };

  for (const path of ['/favicon.ico', '/robots.txt']) {
    for (const headers of [NAV, FETCH, [['Sec-Fetch-Mode', 'no-cors'], ['Sec-Fetch-Dest', 'image']] as Hdrs]) {
      test(`no session: Gatehouse's own ${path} (${headers[0][1]}) is not gated`, async () => {
        const { res, received } = await send(ctx, get(path, headers));
        assertServedByGatehouse(res, received);
      });
    }
  }

  test("no session: the build assets of Gatehouse's own home page are served (its scripts, styles, fonts)", async () => {
    // Real asset URLs: the ones the page links, taken from its HTML as a logged-in browser gets it.
    const page = await send(ctx, get('/', withCookie(await loggedIn(ctx.stack), NAV)));
    assert.equal(page.res.status, 200, describeRes(page.res));
    const assets = [...new Set([...page.res.body.toString().matchAll(/(?:src|href)="(\/_next\/static\/[^"]+)"/g)].map((m) => m[1]))];
    assert.ok(assets.length > 0, `the home page links build assets:\n${page.res.body.toString().slice(0, 500)}`);
    for (const asset of assets) {
      for (const headers of [FETCH, [['Sec-Fetch-Mode', 'no-cors'], ['Sec-Fetch-Dest', 'script']] as Hdrs]) {
        const { res, received } = await send(ctx, get(asset, headers));
        assertServedByGatehouse(res, received);
        assert.equal(res.status, 200, `${asset}: ${describeRes(res)}`);
        assert.ok(res.body.length > 0, `${asset}: empty`);
      }
    }
  });
});
