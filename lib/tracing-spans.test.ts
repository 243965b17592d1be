// The span helpers (lib/tracing-spans.ts, lib/tracing-redis.ts, the log mixin) against the real
// SDK with an in-memory exporter: nothing made while tracing is off; with it on, the IdP and the
// upstream get a traceparent naming their CLIENT span under the request's span (a client's own
// traceparent replaced), Redis commands become spans only inside a request, and log lines of the
// request carry its trace_id and span_id.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics_channel from 'node:diagnostics_channel';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger } from './log';
import { tracingState, type Tracing } from './tracing-context';
import { traceIdpCall, traceUpstreamCall } from './tracing-spans';
import { traceRedisCommands } from './tracing-redis';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracing: Tracing = { tracer: provider.getTracer('gatehouse'), propagator: new W3CTraceContextPropagator(), contexts: new AsyncLocalStorage(), shutdown: () => provider.shutdown() };
const CLIENT_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Runs `fn` as if inside a request's server span; returns what it returned and that span. */
function inRequest<T>(fn: () => T): { value: T; traceId: string; spanId: string } {
  const span = tracing.tracer.startSpan('GET /api', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  const value = tracing.contexts.run(trace.setSpan(ROOT_CONTEXT, span), fn);
  span.end();
  return { value, ...span.spanContext() };
}

const finished = () => exporter.getFinishedSpans();

describe('tracing off', () => {
  test('no span, and the headers left as they are', () => {
    tracingState.tracing = null;
    const headers: Record<string, string> = { traceparent: CLIENT_TRACEPARENT };
    traceUpstreamCall(new URL('http://api/x'), 'GET', headers, '/api').end('ok', 200);
    const init: RequestInit = { method: 'POST', headers: { accept: 'application/json' } };
    traceIdpCall('token', 'http://idp/token', init).end('ok', 200);
    assert.deepEqual(headers, { traceparent: CLIENT_TRACEPARENT }, "the client's traceparent passes untouched");
    assert.deepEqual(init.headers, { accept: 'application/json' });
    assert.equal(finished().length, 0);
  });
});

describe('tracing on', () => {
  before(() => {
    tracingState.tracing = tracing;
    traceRedisCommands(tracing);
  });
  after(() => {
    tracingState.tracing = null;
  });
  beforeEach(() => exporter.reset());

  test('the upstream call: a CLIENT span under the request span, its traceparent replacing the client one', () => {
    const headers: Record<string, string> = { traceparent: CLIENT_TRACEPARENT, tracestate: 'client=1', accept: '*/*' };
    const { traceId, spanId } = inRequest(() => traceUpstreamCall(new URL('http://api:8080/users?q=secret'), 'GET', headers, '/api').end('ok', 503));
    const upstream = finished().find((s) => s.name === 'upstream /api')!;
    assert.equal(upstream.kind, SpanKind.CLIENT);
    assert.equal(upstream.spanContext().traceId, traceId);
    assert.equal(upstream.parentSpanContext?.spanId, spanId);
    assert.equal(headers.traceparent, `00-${traceId}-${upstream.spanContext().spanId}-01`);
    assert.equal(headers.tracestate, undefined, "the client's tracestate belonged to its own trace");
    assert.equal(headers.accept, '*/*');
    assert.equal(upstream.attributes['url.full'], 'http://api:8080/users');
    assert.equal(upstream.attributes['error.type'], '503', 'a 5xx from the upstream is an error of the call');
  });

  test('an IdP call: traceparent on the request headers, the operation on the span', () => {
    const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const { traceId } = inRequest(() => traceIdpCall('refresh', 'https://idp.example/token', init).end('rejected', 400));
    const idp = finished().find((s) => s.name === 'idp refresh')!;
    const headers = new Headers(init.headers);
    assert.equal(headers.get('traceparent'), `00-${traceId}-${idp.spanContext().spanId}-01`);
    assert.equal(headers.get('content-type'), 'application/x-www-form-urlencoded');
    assert.equal(idp.attributes['gatehouse.idp.operation'], 'refresh');
    assert.equal(idp.attributes['gatehouse.outcome'], 'rejected');
    assert.equal(idp.status.code, 2, 'error');
  });

  test('an IdP call outside a request starts a trace of its own (discovery at startup)', () => {
    traceIdpCall('discovery', 'https://idp.example/.well-known/openid-configuration', {}).end('ok', 200);
    const [span] = finished();
    assert.equal(span.name, 'idp discovery');
    assert.equal(span.parentSpanContext, undefined);
  });

  test('Redis commands: a span inside a request, none outside', async () => {
    const channel = diagnostics_channel.tracingChannel('ioredis:command');
    const command = () => ({ command: 'get', args: ['gh:{s}:x'], database: 0, serverAddress: '127.0.0.1', serverPort: 6379 });
    await channel.tracePromise(async () => 'outside', command());
    assert.equal(finished().length, 0);
    const { value, spanId } = inRequest(() => channel.tracePromise(async () => 'value', command()));
    assert.equal(await value, 'value');
    const failed = inRequest(() => channel.tracePromise(async () => { throw new Error('READONLY'); }, command()));
    await assert.rejects(failed.value);
    const spans = finished().filter((s) => s.name === 'GET');
    assert.equal(spans.length, 2);
    assert.equal(spans[0].parentSpanContext?.spanId, spanId);
    assert.equal(spans[1].attributes['error.type'], 'Error');
    assert.ok(!JSON.stringify(spans.map((s) => s.attributes)).includes('gh:'), 'no key in the attributes');
  });

  test('log lines inside a request carry its trace_id and span_id; others none', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', destination: { write: (s: string) => void lines.push(s) } });
    logger.info('outside');
    const { traceId, spanId } = inRequest(() => logger.info('inside'));
    const [outside, inside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(outside.trace_id, undefined);
    assert.deepEqual([inside.trace_id, inside.span_id], [traceId, spanId]);
  });
});
