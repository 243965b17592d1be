// Readiness probe `/oauth2/ready` (SPEC §3), against the production build: 200 `{"ready":true}`
// when the IdP's discovery is loaded and Redis (when configured) answers; 503 with the reason when
// either is not, back to 200 when it recovers; answered by Gatehouse itself, never by an upstream
// (sidecar `UPSTREAMS=/=…`), `no-store`, and never hanging on a frozen Redis. The liveness probe
// `/oauth2/ping` is unaffected by all of it (a restart cures neither outage).
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test --test-concurrency=1 test/integration/readiness.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startIdp, type Idp } from '../../dev/idp';
import { startApp, type App } from '../harness/app';
import { testSecret } from '../harness/env';
import { freePort } from '../harness/ports';
import { startRedis, type RedisServer } from '../harness/redis';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { build, get, raw, type RawSpec } from './raw-http';

/** Redis calls fail fast (SPEC §5); a probe must not hang either. Generous for a loaded runner. */
const PROBE_BOUND_MS = 3_000;
const RECOVERY_MS = 10_000;

interface Probe { status: number; body: unknown; cacheControl?: string; contentType?: string }

async function probe(port: number, host: string, spec: RawSpec = get('/oauth2/ready')): Promise<Probe> {
  const res = await raw(port, build(spec, host), spec.method === 'HEAD', PROBE_BOUND_MS);
  const text = res.body.toString();
  const contentType = res.header('content-type');
  // Not every spelling is the probe itself (a trailing slash may be redirected): JSON when it says so.
  const body: unknown = text && /^application\/json/.test(contentType ?? '') ? JSON.parse(text) : text;
  return { status: res.status, body, cacheControl: res.header('cache-control'), contentType };
}

const READY = { ready: true };
const notReady = (reason: string) => ({ ready: false, reason });

const pong = async (port: number, host: string) => (await raw(port, build(get('/oauth2/ping'), host))).body.toString().trim();

/** Polls the probe until it answers `body`; each answer within PROBE_BOUND_MS. */
const probeUntil = (what: string, port: number, host: string, body: unknown) =>
  eventually(what, RECOVERY_MS, async () => {
    const p = await probe(port, host);
    return JSON.stringify(p.body) === JSON.stringify(body) && p;
  });

describe('readiness of a sidecar with Redis and auto-login', { timeout: 120_000 }, () => {
  let stack: Stack;
  let host: string;
  before(async () => {
    stack = await startStack({ redis: true, startApp: false });
    // As a sidecar usually runs: everything behind a login, so a probe without a session must be
    // answered by Gatehouse itself, not sent to the login.
    await stack.restartApp({ UPSTREAMS: `/=${stack.upstream.url}`, AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/after-the-probes' });
    host = new URL(stack.appUrl).host;
  }, { timeout: 60_000 });
  after(() => stack?.close());

  test('ready: 200 {"ready":true}, JSON, no-store', async () => {
    const p = await probeUntil('the first probe to load discovery', stack.port, host, READY);
    assert.equal(p.status, 200);
    assert.match(String(p.contentType), /^application\/json/);
    assert.equal(p.cacheControl, 'no-store');
  });

  test('the probe is answered by Gatehouse in every spelling, never forwarded to the sidecar\'s upstream', async () => {
    const before = stack.upstream.arrived.length;
    // [request, what the probe answers]: the probe itself, or (undefined) Gatehouse's own redirect
    // or 404 for a spelling Next does not route to it. Either way not the upstream's echo.
    const spellings: Array<[RawSpec, unknown]> = [
      [get('/oauth2/ready'), READY],
      [get('/oauth2/ready?probe=kubelet'), READY],
      [get('//oauth2/ready'), READY],
      [{ method: 'HEAD', target: '/oauth2/ready' }, ''],
      [get('/oauth2/ready/'), undefined],
      [get('/oauth2/%72eady'), undefined],
    ];
    for (const [spec, want] of spellings) {
      const name = `${spec.method ?? 'GET'} ${spec.target}`;
      const p = await probe(stack.port, host, spec);
      assert.notEqual(p.status, 0, `${name}: no answer`);
      assert.equal(p.cacheControl, 'no-store', name);
      if (want !== undefined) assert.deepEqual({ status: p.status, body: p.body }, { status: 200, body: want }, name);
    }
    // A request to the upstream afterwards is a barrier: what reached it by then is all there is.
    assert.equal((await raw(stack.port, build(get('/after-the-probes'), host))).status, 200);
    await eventually('the barrier to reach the upstream', 5_000, () => stack.upstream.arrived.some((r) => r.url === '/after-the-probes'));
    assert.deepEqual(stack.upstream.arrived.slice(before).map((r) => r.url), ['/after-the-probes']);
  });

  test('Redis stopped: 503 store_unavailable, liveness unaffected; 200 again once Redis is back', async () => {
    await stack.redis!.stop();
    const p = await probeUntil('readiness to see Redis gone', stack.port, host, notReady('store_unavailable'));
    assert.equal(p.status, 503);
    assert.equal(p.cacheControl, 'no-store');
    assert.equal(await pong(stack.port, host), 'pong');
    await stack.redis!.start();
    await probeUntil('readiness to see Redis back', stack.port, host, READY);
  });

  test('Redis frozen (connected, silent): 503 store_unavailable within the bound, not a hang; 200 after the thaw', async () => {
    stack.redis!.freeze();
    try {
      const p = await probeUntil('readiness to see Redis frozen', stack.port, host, notReady('store_unavailable'));
      assert.equal(p.status, 503);
      assert.equal(await pong(stack.port, host), 'pong');
    } finally {
      stack.redis!.thaw();
    }
    await probeUntil('readiness to see Redis thawed', stack.port, host, READY);
  });
});

describe('readiness with the IdP down before the app starts', { timeout: 120_000 }, () => {
  let stack: Stack;
  let host: string;
  let idpAgain: Idp | undefined;
  before(async () => {
    stack = await startStack({ startApp: false });
    await stack.idp.close(); // connection refused on the issuer's port from the start
    await stack.restartApp();
    host = new URL(stack.appUrl).host;
  }, { timeout: 60_000 });
  after(async () => {
    await stack?.close();
    await idpAgain?.close();
  });

  test('503 idp_unavailable while discovery cannot load; liveness unaffected', async () => {
    const p = await probe(stack.port, host);
    assert.equal(p.status, 503);
    assert.deepEqual(p.body, notReady('idp_unavailable'));
    assert.equal(p.cacheControl, 'no-store');
    assert.equal(await pong(stack.port, host), 'pong');
  });

  test('200 once the IdP answers: a failed discovery is not remembered', async () => {
    idpAgain = await startIdp({ port: stack.idp.port, clients: [stack.client] });
    const p = await probeUntil('readiness after the IdP came up', stack.port, host, READY);
    assert.equal(p.status, 200);
  });
});

describe('readiness of an SSO proxy', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let proxy: App;
  let host: string;
  before(async () => {
    redis = await startRedis();
    const port = await freePort();
    // Nothing listens at the SSO server URL: a proxy never talks to an IdP (SPEC §8), so its
    // readiness is Redis's alone.
    proxy = await startApp({
      INGRESS: `http://127.0.0.1:${port}`,
      SESSION_SECRET: testSecret(),
      REDIS_URL: redis.url,
      SSO_MODE: 'proxy',
      SSO_SERVER_URL: `http://127.0.0.1:${await freePort()}`,
      SSO_SESSION_COOKIE_NAME: 'example.sso',
    }, { port });
    host = `127.0.0.1:${port}`;
  }, { timeout: 60_000 });
  after(async () => {
    await proxy?.stop();
    await redis?.close();
  });

  test('200 with Redis up, 503 store_unavailable with Redis stopped', async () => {
    assert.deepEqual((await probe(proxy.port, host)).body, READY);
    await redis.stop();
    const p = await probeUntil('the proxy to see Redis gone', proxy.port, host, notReady('store_unavailable'));
    assert.equal(p.status, 503);
  });
});
