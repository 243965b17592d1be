// Metrics through prom-client (SPEC §11) against the production build, the dev IdP and a real
// redis-server: /metrics on METRICS_ADDRESS is scraped before and after a login, a forwarded
// request, a refresh, an upstream timeout, a refused upstream connection, oversized bodies and a
// logout, and every counter and histogram count that moved must have moved by exactly what the
// step did (the app hops the browser made, the IdP calls the step needs, the upstream's outcome),
// and nothing else.
//
// Access tokens live 20 s and SESSION_REFRESH_BEFORE is 30 s, so a session becomes due for a
// refresh once its cooldown (half the lifetime: 10 s) has passed; every other step runs within a
// few seconds of a token being issued, so no refresh happens where none is expected.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/metrics.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import pkg from '../../package.json';
import { ROUTES } from '../../lib/routes';
import { Browser, FETCH_HEADERS, loginViaIdp, type Hop } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { changes, scrape, seriesKey, valueOf, type Labels, type Scrape } from './metrics-scrape';
import { apiCall, sessionCookies } from './support';

const TOKEN_TTL_SECONDS = 20;
const UPSTREAM_TIMEOUT_SECONDS = 1;
const MAX_BODY_BYTES = 1024;

const HTTP = 'gatehouse_http_requests_total';
const HTTP_DURATION = 'gatehouse_http_request_duration_seconds';
const UPSTREAM = 'gatehouse_upstream_request_duration_seconds';
const IDP = 'gatehouse_idp_request_duration_seconds';
const STORE_LATENCY = 'gatehouse_store_latency_seconds';

/** What a step is expected to move: series key → amount. */
type Expected = Map<string, number>;

function expectHttp(expected: Expected, route: string, method: string, status: string) {
  for (const key of [seriesKey(HTTP, { route, method, status }), seriesKey(`${HTTP_DURATION}_count`, { route, method, status })]) {
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
}

const expectCount = (expected: Expected, name: string, labels: Labels, by = 1) => expected.set(seriesKey(name, labels), (expected.get(seriesKey(name, labels)) ?? 0) + by);

/** The route label of a path on the app: an endpoint, the upstream prefix, or app. */
function routeOf(path: string): string {
  if (path === '/oauth2' || path.startsWith('/oauth2/')) return (Object.values(ROUTES) as string[]).includes(path) ? path : '/oauth2/other';
  for (const prefix of ['/api', '/down']) if (path === prefix || path.startsWith(`${prefix}/`)) return prefix;
  return 'app';
}

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

/** The request metrics of the hops a browser made to the app (the IdP's hops are not Gatehouse's). */
function expectHops(expected: Expected, hops: Hop[], appOrigin: string) {
  for (const hop of hops) {
    const url = new URL(hop.url);
    if (url.origin === appOrigin) expectHttp(expected, routeOf(url.pathname), hop.method, statusClass(hop.status));
  }
}

/**
 * Every counter sample and histogram count that moved, minus store latency (how many store reads a
 * request makes is the session code's business; its count is checked apart). Process metrics are
 * not Gatehouse's and move on their own.
 */
function countsMoved(before: Scrape, after: Scrape): Map<string, number> {
  const moved = changes(before, after, 'gatehouse_');
  for (const key of moved.keys()) {
    const name = key.split('{', 1)[0];
    const isCount = name.endsWith('_total') || name.endsWith('_count');
    if (!isCount || name.startsWith(STORE_LATENCY)) moved.delete(key);
  }
  return moved;
}

/** A POST whose body goes out in chunks (no Content-Length); resolves with the answer's status. */
function chunkedPost(url: string, headers: Record<string, string>, pieces: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error) => answered || reject(error));
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

const sorted = (m: Map<string, number>) => new Map([...m].sort(([a], [b]) => a.localeCompare(b)));

describe('metrics: scrapes around a login, a forward, a refresh, upstream failures and a logout (Redis store)', () => {
  let stack: Stack;
  let metricsUrl: string;
  let appOrigin: string;
  const browser = new Browser();

  before(async () => {
    const metricsPort = await freePort();
    const closedPort = await freePort(); // nothing listens there: connections are refused
    stack = await startStack({
      redis: true,
      idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS },
      env: {
        METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        SESSION_REFRESH_BEFORE: '30s',
        UPSTREAM_TIMEOUT: `${UPSTREAM_TIMEOUT_SECONDS}s`,
        UPSTREAM_MAX_BODY: String(MAX_BODY_BYTES),
      },
    });
    // A second route, to an upstream that is down: started with the stack's own /api route.
    await stack.restartApp({ UPSTREAMS: `${stack.env.UPSTREAMS},/down=http://127.0.0.1:${closedPort}` });
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    appOrigin = new URL(stack.app.url).origin;
  });
  after(async () => {
    await stack?.close();
  });

  /** Runs a step between two scrapes; asserts the counts moved by `expected` and nothing else. */
  async function step(name: string, run: (expected: Expected, before: Scrape) => Promise<void>): Promise<{ before: Scrape; after: Scrape }> {
    const before = await scrape(metricsUrl);
    const expected: Expected = new Map();
    await run(expected, before);
    const after = await scrape(metricsUrl);
    assert.deepEqual(sorted(countsMoved(before, after)), sorted(expected), `${name}: what moved (left) against what happened (right)`);
    return { before, after };
  }

  test('the registry is served in the text format, every series that can exist is there at 0, with build info and process metrics', async () => {
    const s = await scrape(metricsUrl);
    assert.equal(s.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(valueOf(s, 'gatehouse_build_info', { version: pkg.version, node: process.version }), 1);
    for (const outcome of ['success', 'failure']) assert.equal(valueOf(s, 'gatehouse_logins_total', { outcome }), 0);
    for (const channel of ['rp_initiated', 'local', 'front_channel', 'back_channel']) assert.equal(valueOf(s, 'gatehouse_logouts_total', { channel }), 0);
    for (const outcome of ['success', 'rejected', 'unavailable', 'store_unavailable']) assert.equal(valueOf(s, 'gatehouse_refreshes_total', { outcome }), 0);
    assert.equal(valueOf(s, 'gatehouse_store_errors_total', { store: 'redis' }), 0);
    assert.equal(valueOf(s, 'gatehouse_store_fallbacks_total'), 0);
    for (const store of ['redis', 'cookie']) assert.equal(valueOf(s, `${STORE_LATENCY}_count`, { store }), 0);
    for (const upstream of ['/api', '/down']) {
      for (const outcome of ['ok', 'timeout', 'refused', 'too_large', 'aborted']) {
        assert.equal(valueOf(s, `${UPSTREAM}_count`, { upstream, outcome }), 0);
        assert.equal(valueOf(s, `${UPSTREAM}_bucket`, { upstream, outcome, le: '+Inf' }), 0);
      }
    }
    for (const operation of ['token', 'refresh', 'jwks', 'par']) {
      for (const outcome of ['ok', 'rejected', 'error', 'timeout', 'unreachable']) assert.equal(valueOf(s, `${IDP}_count`, { operation, outcome }), 0);
    }
    for (const route of [...Object.values(ROUTES), '/oauth2/other', '/api', '/down', 'app']) {
      for (const status of ['2xx', '3xx', '4xx', '5xx', 'aborted']) assert.ok(s.samples.has(seriesKey(HTTP, { route, method: 'GET', status })), `${route} GET ${status}`);
    }
    assert.equal(valueOf(s, HTTP, { route: '/api', method: 'GET', status: '5xx' }), 0);
    assert.equal(valueOf(s, 'gatehouse_sessions_active'), 0);
    // prom-client's default process metrics.
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles_total']) {
      assert.ok(s.samples.has(name), `${name} is exported`);
    }
    assert.equal(s.types.get('nodejs_gc_duration_seconds'), 'histogram');
    assert.equal(s.types.get('gatehouse_http_request_duration_seconds'), 'histogram');
  });

  test('a login moves the login counter, the request counts of its hops and one PAR and one token call', async () => {
    const { before, after } = await step('login', async (expected, before) => {
      const login = await loginViaIdp(browser, stack.app.url);
      expectCount(expected, 'gatehouse_logins_total', { outcome: 'success' });
      expectHops(expected, login.hops, appOrigin);
      expectCount(expected, `${IDP}_count`, { operation: 'par', outcome: 'ok' });
      expectCount(expected, `${IDP}_count`, { operation: 'token', outcome: 'ok' });
      // Discovery and the JWKS happen once per process, at the first login or before it.
      for (const operation of ['discovery', 'jwks']) {
        const earlier = valueOf(before, `${IDP}_count`, { operation, outcome: 'ok' });
        if (earlier === 0) expectCount(expected, `${IDP}_count`, { operation, outcome: 'ok' });
      }
    });
    for (const operation of ['discovery', 'jwks', 'par', 'token']) assert.ok(valueOf(after, `${IDP}_sum`, { operation, outcome: 'ok' }) > 0);
    assert.ok(valueOf(after, `${STORE_LATENCY}_count`, { store: 'redis' }) > valueOf(before, `${STORE_LATENCY}_count`, { store: 'redis' }), 'the session was read from Redis');
    assert.equal(valueOf(after, 'gatehouse_sessions_active'), 1);
  });

  test('a forwarded request moves the /api request count and one ok upstream call', async () => {
    const arrived = stack.upstream.requests.length;
    await step('forward', async (expected) => {
      await apiCall(browser, stack.app.url, '/api/metrics/forwarded');
      expectHttp(expected, '/api', 'GET', '2xx');
      expectCount(expected, `${UPSTREAM}_count`, { upstream: '/api', outcome: 'ok' });
    });
    assert.equal(stack.upstream.requests.length, arrived + 1);
  });

  test('a due refresh moves the refresh counter and one refresh call at the IdP, on top of the forward', async () => {
    await eventually('the refresh cooldown to end', (TOKEN_TTL_SECONDS + 5) * 1000, async () => {
      const res = await browser.get(`${stack.app.url}/oauth2/session`, { headers: FETCH_HEADERS });
      assert.equal(res.status, 200);
      return !((await res.json()) as { tokens: { refresh_cooldown: boolean } }).tokens.refresh_cooldown;
    });
    const grants = stack.idp.grants.refreshGrants;
    await step('refresh', async (expected) => {
      await apiCall(browser, stack.app.url, '/api/metrics/refreshed');
      expectHttp(expected, '/api', 'GET', '2xx');
      expectCount(expected, `${UPSTREAM}_count`, { upstream: '/api', outcome: 'ok' });
      expectCount(expected, 'gatehouse_refreshes_total', { outcome: 'success' });
      expectCount(expected, `${IDP}_count`, { operation: 'refresh', outcome: 'ok' });
    });
    assert.equal(stack.idp.grants.refreshGrants, grants + 1, 'the IdP saw exactly one refresh grant');
  });

  test('an upstream that never answers moves the timeout outcome (at least UPSTREAM_TIMEOUT long) and a 5xx', async () => {
    const { before, after } = await step('timeout', async (expected) => {
      const res = await browser.get(`${stack.app.url}/api/hang`, { headers: FETCH_HEADERS });
      await res.body?.cancel();
      assert.equal(res.status, 504);
      expectHttp(expected, '/api', 'GET', '5xx');
      expectCount(expected, `${UPSTREAM}_count`, { upstream: '/api', outcome: 'timeout' });
    });
    const labels = { upstream: '/api', outcome: 'timeout' };
    const recorded = valueOf(after, `${UPSTREAM}_sum`, labels) - valueOf(before, `${UPSTREAM}_sum`, labels);
    assert.ok(recorded >= UPSTREAM_TIMEOUT_SECONDS * 0.99, `the timeout was recorded as ${recorded} s`);
    assert.equal(valueOf(after, `${UPSTREAM}_bucket`, { ...labels, le: '0.5' }), valueOf(before, `${UPSTREAM}_bucket`, { ...labels, le: '0.5' }), 'not in a bucket below the timeout');
    assert.ok(stack.upstream.arrived.some((r) => r.url === '/hang'), 'the request reached the upstream');
  });

  test('an upstream that refuses connections moves its own refused outcome and a 5xx', async () => {
    await step('refused', async (expected) => {
      const res = await browser.get(`${stack.app.url}/down/anything`, { headers: FETCH_HEADERS });
      await res.body?.cancel();
      assert.equal(res.status, 502);
      expectHttp(expected, '/down', 'GET', '5xx');
      expectCount(expected, `${UPSTREAM}_count`, { upstream: '/down', outcome: 'refused' });
    });
  });

  test('a body over UPSTREAM_MAX_BODY moves the too_large outcome and a 4xx, declared or streamed', async () => {
    const arrived = stack.upstream.requests.length;
    await step('too large', async (expected) => {
      const declared = await browser.request(`${stack.app.url}/api/echo-body`, { method: 'POST', headers: FETCH_HEADERS, body: 'x'.repeat(MAX_BODY_BYTES + 1) });
      await declared.body?.cancel();
      assert.equal(declared.status, 413);
      expectHttp(expected, '/api', 'POST', '4xx');
      // Chunked: the limit is found while the body streams to the upstream.
      const cookie = sessionCookies(browser, stack.app.url).map(([n, v]) => `${n}=${v}`).join('; ');
      const streamed = await chunkedPost(`${stack.app.url}/api/echo-body`, { ...FETCH_HEADERS, cookie }, [Buffer.alloc(MAX_BODY_BYTES, 'y'), Buffer.from('z')]);
      assert.equal(streamed, 413);
      expectHttp(expected, '/api', 'POST', '4xx');
      expectCount(expected, `${UPSTREAM}_count`, { upstream: '/api', outcome: 'too_large' }, 2);
    });
    assert.equal(stack.upstream.requests.length, arrived, 'no truncated body completed at the upstream');
  });

  test('a local logout moves the logout counter, and the session count goes back to 0', async () => {
    const { after } = await step('logout', async (expected) => {
      const res = await browser.get(`${stack.app.url}/oauth2/logout/local`, { headers: FETCH_HEADERS });
      assert.equal(res.status, 204);
      expectHttp(expected, ROUTES.logoutLocal, 'GET', '2xx');
      expectCount(expected, 'gatehouse_logouts_total', { channel: 'local' });
    });
    assert.equal(valueOf(after, 'gatehouse_sessions_active'), 0);
    assert.equal(valueOf(after, 'gatehouse_store_errors_total', { store: 'redis' }), 0);
    assert.equal(valueOf(after, 'gatehouse_store_fallbacks_total'), 0);
  });

  test('while Redis is down the session count reads NaN (not a made-up 0) and the scrape still answers; back to the count after', async () => {
    await stack.redis!.stop();
    try {
      const s = await scrape(metricsUrl);
      assert.ok(Number.isNaN(valueOf(s, 'gatehouse_sessions_active')), 'NaN while Redis cannot be counted');
      assert.equal(valueOf(s, 'gatehouse_build_info', { version: pkg.version, node: process.version }), 1, 'the rest of the registry is served');
    } finally {
      await stack.redis!.start();
    }
    await eventually('the count to come back', 10_000, async () => valueOf(await scrape(metricsUrl), 'gatehouse_sessions_active') === 0);
  });
});
