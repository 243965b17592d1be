// OpenTelemetry traces (SPEC §11) from the production build into a real OTLP/HTTP receiver
// (test/harness/otlp-receiver.ts, decoding the JSON the SDK exports): one trace per request with
// the server span at its root, the IdP, Redis and upstream calls under it, W3C trace context
// passed on to the upstream and the IdP and continued from the client, trace_id/span_id on the
// request's log lines, no secret anywhere in what was exported, and the last spans flushed on
// SIGTERM.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/tracing.test.ts

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, httpRequest, loginViaIdp } from '../harness/http';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver';
import { startStack, type Stack } from '../harness/stack';
import { apiCall, recordIssuedTokens, sessionCookies, type Issued } from './support';
import { exchange, handshake } from './ws-client';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

const serverSpan = (spans: ReceivedSpan[], route: string) => spans.find((s) => s.kind === 'server' && s.attributes['http.route'] === route);
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((s) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId);

/** Every trace holds exactly one span without a parent here, and it is that trace's only server span. */
function assertOneRootPerTrace(spans: ReceivedSpan[]) {
  const traces = new Map<string, ReceivedSpan[]>();
  for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
  for (const [traceId, members] of traces) {
    const ids = new Set(members.map((s) => s.spanId));
    const roots = members.filter((s) => !ids.has(s.parentSpanId));
    assert.equal(roots.length, 1, `trace ${traceId} has ${roots.length} roots: ${roots.map((s) => s.name).join(', ')}`);
    const servers = members.filter((s) => s.kind === 'server');
    if (servers.length > 0) assert.deepEqual(servers, roots, `trace ${traceId}: the server span is the root and the only one`);
  }
}

describe('traces: a login and a forwarded request (Redis store)', () => {
  let otlp: OtlpReceiver;
  let stack: Stack;
  let issued: Issued[];
  const idpTraceparents: string[] = [];
  const browser = new Browser();
  let code = '';

  before(async () => {
    otlp = await startOtlpReceiver();
    stack = await startStack({
      redis: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100', ACCESS_LOG: 'true' },
    });
    issued = recordIssuedTokens(stack.idp);
    // What the token endpoint received: oidc-provider hands its events the request context.
    stack.idp.provider.on('grant.success', (ctx: { get(name: string): string }) => idpTraceparents.push(ctx.get('traceparent')));
    const login = await loginViaIdp(browser, stack.app.url, { stopAfterCallback: true });
    code = new URL(login.callback.url).searchParams.get('code') ?? '';
    await apiCall(browser, stack.app.url, '/api/whoami');
  });
  after(async () => {
    await stack?.close();
    await otlp?.close();
  });

  test('one trace per request, the server span at its root, named by method and bounded route', async () => {
    const spans = await otlp.waitForSpans((all) => Boolean(serverSpan(all, '/oauth2/callback') && serverSpan(all, '/api') && serverSpan(all, '/oauth2/login')));
    assertOneRootPerTrace(spans);
    const servers = ['/oauth2/login', '/oauth2/callback', '/api'].map((route) => serverSpan(spans, route)!);
    assert.equal(new Set(servers.map((s) => s.traceId)).size, 3, 'each request is a trace of its own');
    assert.deepEqual(servers.map((s) => s.name), ['GET /oauth2/login', 'GET /oauth2/callback', 'GET /api']);
    const callback = servers[1];
    assert.equal(callback.attributes['url.path'], '/oauth2/callback', 'the path, never the query');
    assert.equal(callback.attributes['http.response.status_code'], 302);
    assert.equal(callback.attributes['http.request.method'], 'GET');
    assert.equal(typeof callback.attributes['gatehouse.correlation_id'], 'string');
    assert.equal(callback.resource['service.name'], 'gatehouse', 'OTEL_SERVICE_NAME defaults to gatehouse');
    // Next's own spans stay off (no global tracer provider): every span is Gatehouse's.
    assert.deepEqual([...new Set(spans.map((s) => s.scope))], ['gatehouse']);
  });

  test('the callback trace holds the IdP token call and the Redis commands, under its server span', async () => {
    const spans = await otlp.waitForSpans((all) => {
      const callback = serverSpan(all, '/oauth2/callback');
      return Boolean(callback && childrenOf(all, callback).some((s) => s.name === 'idp token'));
    });
    const callback = serverSpan(spans, '/oauth2/callback')!;
    const children = childrenOf(spans, callback);
    const token = children.find((s) => s.name === 'idp token')!;
    assert.equal(token.kind, 'client');
    assert.equal(token.attributes['gatehouse.idp.operation'], 'token');
    assert.equal(token.attributes['http.request.method'], 'POST');
    assert.equal(token.attributes['http.response.status_code'], 200);
    assert.equal(token.attributes['gatehouse.outcome'], 'ok');
    assert.equal(token.attributes['url.full'], `${stack.idp.issuer}/token`);
    const redis = children.filter((s) => s.attributes['db.system.name'] === 'redis');
    assert.ok(redis.some((s) => s.name === 'SET' && s.attributes['db.operation.name'] === 'SET'), `a SET of the new session, got ${redis.map((s) => s.name).join(', ')}`);
    for (const s of redis) {
      assert.equal(s.kind, 'client');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], stack.redis!.port);
    }
  });

  test('the IdP received the callback trace in traceparent', async () => {
    const spans = await otlp.waitForSpans((all) => Boolean(serverSpan(all, '/oauth2/callback')));
    const callback = serverSpan(spans, '/oauth2/callback')!;
    const code = idpTraceparents.map((t) => TRACEPARENT.exec(t)).find(Boolean);
    assert.ok(code, `the token request carried a traceparent: ${JSON.stringify(idpTraceparents)}`);
    assert.equal(code[1], callback.traceId);
    const token = childrenOf(spans, callback).find((s) => s.name === 'idp token');
    assert.equal(code[2], token?.spanId, "the IdP's parent is the token call's span");
  });

  test('a forwarded request: the upstream call and the session read under the server span; the upstream got its traceparent', async () => {
    const spans = await otlp.waitForSpans((all) => {
      const api = serverSpan(all, '/api');
      return Boolean(api && childrenOf(all, api).some((s) => s.name === 'upstream /api'));
    });
    const api = serverSpan(spans, '/api')!;
    assert.equal(api.attributes['url.path'], '/api/whoami');
    assert.equal(api.attributes['http.response.status_code'], 200);
    const children = childrenOf(spans, api);
    const upstream = children.find((s) => s.name === 'upstream /api')!;
    assert.equal(upstream.kind, 'client');
    assert.equal(upstream.attributes['gatehouse.upstream'], '/api');
    assert.equal(upstream.attributes['url.full'], `${stack.upstream.url}/whoami`);
    assert.equal(upstream.attributes['http.response.status_code'], 200);
    assert.ok(children.some((s) => s.name === 'GET' && s.attributes['db.system.name'] === 'redis'), 'the session read from Redis');
    const received = stack.upstream.last('/whoami')?.headers.traceparent;
    assert.equal(received, `00-${api.traceId}-${upstream.spanId}-01`);
  });

  test('an incoming traceparent is continued, tracestate passed on', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await httpRequest(`${stack.app.url}/api/continued`, {
      headers: { ...FETCH_HEADERS, cookie: browser.cookieHeader(stack.app.url) ?? '', traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=opaque', 'x-request-id': 'tracing-continued' },
    });
    await res.text();
    assert.equal(res.status, 200);
    const spans = await otlp.waitForSpans((all) => all.some((s) => s.traceId === traceId && s.kind === 'server'));
    const server = spans.find((s) => s.traceId === traceId && s.kind === 'server')!;
    assert.equal(server.parentSpanId, parentId);
    const recorded = stack.upstream.last('/continued')!;
    const sent = TRACEPARENT.exec(String(recorded.headers.traceparent));
    assert.equal(sent?.[1], traceId, 'the upstream continues the same trace');
    assert.notEqual(sent?.[2], parentId, "the upstream's parent is Gatehouse's span, not the client's");
    assert.equal(recorded.headers.tracestate, 'vendor=opaque');

    // Log lines of a traced request name its trace and server span (the access line included).
    const lines = stack.app.jsonLogs().filter((l) => l.correlation_id === 'tracing-continued');
    assert.ok(lines.some((l) => l.msg === 'request'), 'the access log line');
    for (const line of lines) {
      assert.equal(line.trace_id, traceId, JSON.stringify(line));
      assert.equal(line.span_id, server.spanId, JSON.stringify(line));
    }
  });

  test('log lines written while a request is served carry its trace_id and span_id', async () => {
    const spans = await otlp.waitForSpans((all) => Boolean(serverSpan(all, '/oauth2/callback')));
    const callback = serverSpan(spans, '/oauth2/callback')!;
    const completed = stack.app.jsonLogs().find((l) => l.msg === 'login completed');
    assert.ok(completed, 'the login completed line');
    assert.equal(completed.trace_id, callback.traceId);
    assert.equal(completed.span_id, callback.spanId);
    // Outside a request (startup) there is none.
    const listening = stack.app.jsonLogs().find((l) => l.msg === 'listening');
    assert.ok(listening && !('trace_id' in listening));
  });

  test('no token, cookie or code anywhere in what was exported', async () => {
    await otlp.waitForSpans((all) => Boolean(serverSpan(all, '/api') && all.some((s) => s.attributes['gatehouse.correlation_id'] === 'tracing-continued')));
    const tokens = issued.find((i) => i.grantType === 'authorization_code');
    const secrets = {
      access_token: tokens?.access_token,
      refresh_token: tokens?.refresh_token,
      id_token: tokens?.id_token,
      code,
      ...Object.fromEntries(sessionCookies(browser, stack.app.url).map(([name, value]) => [name, value])),
    };
    assert.ok(secrets.access_token && secrets.refresh_token && secrets.code, `the secrets to look for are known: ${Object.keys(secrets).join(', ')}`);
    assert.ok(Object.keys(secrets).some((k) => k.startsWith('gatehouse.session')), 'the session cookie is known');
    const exported = otlp.bodies.join('\n');
    assert.ok(exported.length > 1000);
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value && value.length >= 8, `${name} is a real value`);
      assert.ok(!exported.includes(value), `${name} must not appear in the exported spans`);
    }
    assert.doesNotMatch(exported, /[?&](code|state)=/, 'no query string of the callback');
  });
});

describe('traces: pages, an upgrade and the flush on SIGTERM (cookie store)', () => {
  let otlp: OtlpReceiver;
  let stack: Stack;

  before(async () => {
    otlp = await startOtlpReceiver();
    // Batches wait a minute: what arrives before the app stops was flushed by the shutdown.
    stack = await startStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_SERVICE_NAME: 'gatehouse-test' } });
  });
  after(async () => {
    await stack?.close();
    await otlp?.close();
  });

  test('every request is traced, and the spans of the last ones are exported when the server stops', async () => {
    const page = await httpRequest(`${stack.app.url}/`, { headers: { accept: 'text/html' } });
    await page.text();
    const ping = await httpRequest(`${stack.app.url}/oauth2/ping`);
    await ping.text();
    const ws = await exchange(stack.port, handshake('/api/ws', `127.0.0.1:${stack.port}`));
    assert.equal(ws.status, 101);
    assert.equal(otlp.spans().length, 0, 'nothing exported yet: the batch waits');

    await stack.app.stop();
    const spans = await otlp.waitForSpans((all) => all.length >= 3, 5_000);
    const app = serverSpan(spans, 'app');
    assert.equal(app?.name, 'GET app');
    assert.equal(app?.attributes['http.response.status_code'], 200);
    assert.equal(serverSpan(spans, '/oauth2/ping')?.attributes['http.response.status_code'], 200);
    const upgrade = serverSpan(spans, '/api');
    assert.equal(upgrade?.attributes['http.response.status_code'], 101, 'the upgrade span has the status written on the socket');
    assert.ok(upgrade && childrenOf(spans, upgrade).some((s) => s.name === 'upstream' && s.attributes['http.response.status_code'] === 101), 'the upstream handshake under it');
    assert.ok(!spans.some((s) => s.attributes['db.system.name'] === 'redis'), 'no Redis with the cookie store');
    assert.equal(spans[0].resource['service.name'], 'gatehouse-test');
    assertOneRootPerTrace(spans);
  });
});
