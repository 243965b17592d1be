/**
 * The spans of a request (SPEC §11): one SERVER span per request (continuing an incoming W3C
 * `traceparent`), and a CLIENT span for each call Gatehouse makes on its behalf (the upstream, the
 * IdP; Redis commands: lib/tracing-redis.ts), whose `traceparent` the callee receives. Each helper
 * is one property read and nothing else while tracing is off (lib/tracing-context.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapSetter } from '@opentelemetry/api';
import { methodLabel } from './server/request-done';
import { clientAttributes, idpSpanName, isErrorStatus, serverAttributes, serverSpanName, statusOfRawAnswer, upstreamSpanName } from './tracing-attributes';
import { activeContext, tracingState, type Tracing } from './tracing-context';

/** What the caller knows of a request when it arrives (the bounded route label comes from dispatch). */
export interface TracedRequest {
  route: () => string;
  correlationId: string;
}

function startServerSpan(tracing: Tracing, req: IncomingMessage, r: TracedRequest): { span: Span; context: Context } {
  const request = {
    method: methodLabel(req.method),
    route: r.route(),
    target: req.url ?? '/',
    correlationId: r.correlationId,
    httpVersion: req.httpVersion,
    clientAddress: req.socket.remoteAddress,
  };
  // An incoming traceparent is continued (its sampling decision too, with the default
  // parent-based sampler); without one, this span starts a trace.
  const parent = tracing.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
  const span = tracing.tracer.startSpan(serverSpanName(request), { kind: SpanKind.SERVER, attributes: serverAttributes(request) }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

function endServerSpan(span: Span, status: number | undefined, completed: boolean) {
  if (status) {
    span.setAttribute('http.response.status_code', status);
    if (isErrorStatus(status, 'server')) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  // The client went away before the whole answer was written (no error of Gatehouse's).
  if (!completed) span.setAttribute('gatehouse.aborted', true);
  span.end();
}

/**
 * Runs `run` (the whole handling of one request) inside a SERVER span, which ends once the answer
 * has gone out or the client went away: a stream (SSE, a long download) counts until it ends.
 */
export function traceRequest<T>(req: IncomingMessage, res: ServerResponse, r: TracedRequest, run: () => T): T {
  const tracing = tracingState.tracing;
  if (!tracing) return run();
  const { span, context } = startServerSpan(tracing, req, r);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    endServerSpan(span, res.headersSent ? res.statusCode : undefined, res.writableFinished);
  };
  res.once('finish', end);
  res.once('close', end);
  return tracing.contexts.run(context, run);
}

/**
 * The same for an upgrade (WebSocket): the span lasts as long as the connection. Gatehouse answers
 * an upgrade by writing raw HTTP on the socket (a 101 or a refusal), so the status is read from
 * the first bytes written to it.
 */
export function traceUpgrade<T>(req: IncomingMessage, socket: Duplex, r: TracedRequest, run: () => T): T {
  const tracing = tracingState.tracing;
  if (!tracing) return run();
  const { span, context } = startServerSpan(tracing, req, r);
  let status: number | undefined;
  const { write, end } = socket;
  const sniff = (chunk: unknown) => {
    status = statusOfRawAnswer(chunk);
    socket.write = write;
    socket.end = end;
  };
  socket.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
    sniff(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex['write'];
  socket.end = function (this: Duplex, chunk?: unknown, ...rest: unknown[]) {
    if (chunk !== undefined && typeof chunk !== 'function') sniff(chunk);
    return (end as (...args: unknown[]) => Duplex).call(this, chunk, ...rest);
  } as Duplex['end'];
  socket.once('close', () => endServerSpan(span, status, status !== undefined));
  return tracing.contexts.run(context, run);
}

/** A call Gatehouse makes: ended once, with its outcome (`ok`, or what went wrong) and status. */
export interface CallTrace {
  end(outcome: string, status?: number): void;
}

const NO_CALL: CallTrace = { end: () => undefined };

function callTrace(span: Span): CallTrace {
  let ended = false;
  return {
    end(outcome, status) {
      if (ended) return;
      ended = true;
      span.setAttribute('gatehouse.outcome', outcome);
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      const error = outcome !== 'ok' ? outcome : status !== undefined && isErrorStatus(status, 'client') ? String(status) : null;
      if (error) {
        span.setAttribute('error.type', error);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/** A CLIENT span under the request being served (a trace of its own outside one), and its context. */
function startClientSpan(tracing: Tracing, name: string, attributes: Attributes): { span: Span; context: Context } {
  const parent = activeContext() ?? ROOT_CONTEXT;
  const span = tracing.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * The upstream call of a forwarded request (lib/upstream/forward.ts). Sets `traceparent` (and
 * `tracestate`) in `headers`, replacing any the client sent: the upstream's parent is this span.
 */
export function traceUpstreamCall(target: URL, method: string | undefined, headers: OutgoingHttpHeaders, prefix?: string): CallTrace {
  const tracing = tracingState.tracing;
  if (!tracing) return NO_CALL;
  const { span, context } = startClientSpan(tracing, upstreamSpanName(prefix), {
    ...clientAttributes(methodLabel(method), target),
    ...(prefix ? { 'gatehouse.upstream': prefix } : {}),
  });
  delete headers.traceparent;
  delete headers.tracestate;
  tracing.propagator.inject(context, headers, defaultTextMapSetter);
  return callTrace(span);
}

const headersSetter: TextMapSetter<Headers> = { set: (carrier, key, value) => carrier.set(key, value) };

/**
 * One HTTP call to the identity provider (lib/oidc/idp-fetch.ts): sets `traceparent` on
 * `init.headers` (openid-client and jose build a fresh `init` for every call).
 */
export function traceIdpCall(operation: string, url: string, init: RequestInit): CallTrace {
  const tracing = tracingState.tracing;
  if (!tracing) return NO_CALL;
  const { span, context } = startClientSpan(tracing, idpSpanName(operation), {
    ...clientAttributes(methodLabel((init.method ?? 'GET').toUpperCase()), new URL(url)),
    'gatehouse.idp.operation': operation,
  });
  const headers = new Headers(init.headers);
  tracing.propagator.inject(context, headers, headersSetter);
  init.headers = headers;
  return callTrace(span);
}
