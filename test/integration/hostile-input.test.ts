// Hostile input against the production build (SPEC §4, §6, §7): every case gets a clear 4xx or the
// correct normal answer — never a 500, never a hang, never a Location off-origin, never a header
// built from input that carries CR/LF. The table is in hostile-cases.ts, grown with every bug class
// found; cases marked `redis` run a second time against a stack with the Redis store.
//
// Requests go over raw sockets (raw-http.ts): fetch and http.request refuse to send most of this.
//
//   NEXT_DIST_DIR=.next-hostile node --import tsx --test test/integration/hostile-input.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sessionCookieOf } from '../harness/http';
import { startStack } from '../harness/stack';
import { cases, json, type Case, type Ctx } from './hostile-cases';
import { build, get, raw, type RawResponse } from './raw-http';

/** What every answer must satisfy, whatever the case. */
function assertSafe(res: RawResponse, ctx: Ctx, c: Case) {
  assert.ok(res.status >= 100 && res.status < 500, `status ${res.status}: never a 5xx\n${res.body.toString().slice(0, 300)}`);
  for (const line of res.lines) assert.match(line, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$/, `malformed header line ${JSON.stringify(line)}`);
  assert.ok(!res.headers.some(([n]) => n === 'x-injected'), 'a header injected from input');
  assert.ok(!res.headers.some(([n, v]) => n === 'set-cookie' && /^injected=/.test(v)), 'a cookie injected from input');
  const location = res.header('location');
  if (location !== undefined) {
    const origin = new URL(location, ctx.stack.appUrl).origin;
    const allowed = [new URL(ctx.stack.appUrl).origin, ...(c.expect.location === 'idp' || c.expect.location === undefined ? [new URL(ctx.stack.idp.issuer).origin] : [])];
    assert.ok(allowed.includes(origin), `Location off-origin: ${location}`);
  }
}

async function runCase(c: Case, ctx: Ctx) {
  const spec = typeof c.request === 'function' ? await c.request(ctx) : c.request;
  const before = ctx.stack.upstream.requests.length;
  const res = await raw(ctx.stack.port, build(spec, ctx.host), spec.method === 'HEAD');
  const received = ctx.stack.upstream.requests.slice(before);
  assertSafe(res, ctx, c);
  const statuses = [c.expect.status].flat();
  assert.ok(statuses.includes(res.status), `status ${res.status}, expected ${statuses.join('/')}\n${res.lines.join('\n')}\n${res.body.toString().slice(0, 300)}`);
  const location = res.header('location');
  if (c.expect.location === 'none') assert.equal(location, undefined);
  if (c.expect.location === 'login') {
    // Relative, or absolute on the ingress (assertSafe checked the origin).
    const u = new URL(location ?? 'missing:', ctx.stack.appUrl);
    assert.ok(u.pathname === '/oauth2/login' && u.searchParams.has('redirect'), `Location to login, got ${location}`);
  }
  if (c.expect.location === 'idp') assert.ok(location?.startsWith(ctx.stack.idp.issuer), `Location to the IdP, got ${location}`);
  if (c.expect.json) {
    const body = json(res);
    for (const [k, v] of Object.entries(c.expect.json)) assert.equal(body[k], v, JSON.stringify(body));
  }
  if (c.expect.upstream === 'untouched') assert.deepEqual(received.map((r) => r.url), [], 'the upstream must not be reached');
  else c.expect.upstream?.(received, ctx);
  if (c.expect.maxMs !== undefined) assert.ok(res.ms < c.expect.maxMs, `took ${Math.round(res.ms)} ms (limit ${c.expect.maxMs})`);
  await c.expect.check?.(res, ctx, spec);
}

const ENV = { AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/api/public/**,/api/health' };

for (const store of ['cookie', 'redis'] as const) {
  describe(`hostile input (${store} store)`, { timeout: 240_000 }, () => {
    const ctx = {} as Ctx;
    before(async () => {
      ctx.stack = await startStack({ redis: store === 'redis', env: ENV });
      ctx.host = new URL(ctx.stack.appUrl).host;
      ({ cookie: ctx.session } = await sessionCookieOf(ctx.stack.appUrl));
    }, { timeout: 90_000 });
    after(() => ctx.stack?.close());

    for (const c of cases.filter((c) => store === 'cookie' || c.redis)) {
      test(`${c.class}: ${c.name}`, () => runCase(c, ctx));
    }

    test('the app survived the whole table and logged no unhandled error', async () => {
      const ping = await raw(ctx.stack.port, build(get('/oauth2/ping'), ctx.host));
      assert.equal(ping.body.toString().trim(), 'pong');
      assert.deepEqual(ctx.stack.app.logs.filter((l) => /unhandled|Internal Server Error|"level":"error"/i.test(l)), []);
    });
  });
}
