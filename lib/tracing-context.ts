/**
 * The tracing state every copy of lib/ shares (lib/process-wide.ts), and the trace context of the
 * request being served. `null` while tracing is off: then every span helper is one property read,
 * and no span, context or header is made.
 *
 * Gatehouse keeps its trace context in an AsyncLocalStorage of its own and registers nothing with
 * the global OpenTelemetry API (no global tracer provider, context manager or propagator). Next.js
 * emits its own spans as soon as a global tracer provider exists; its attributes hold the request
 * URL with its query (`/oauth2/callback?code=…&state=…`), and its root span would stand beside
 * Gatehouse's server span. With nothing registered Next's tracing stays off: one trace per request,
 * Gatehouse's, with the server span at its root.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { trace, type Context, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { processWide } from './process-wide';

export interface Tracing {
  tracer: Tracer;
  /** W3C Trace Context (`traceparent`, `tracestate`), in and out. */
  propagator: TextMapPropagator;
  contexts: AsyncLocalStorage<Context>;
  /** Flushes what is queued and stops exporting (SIGTERM). */
  shutdown(): Promise<void>;
}

export const tracingState = processWide('tracing', () => ({ tracing: null as Tracing | null }));

/** The context of the request being served (its server span), if tracing is on and one is. */
export const activeContext = (): Context | undefined => tracingState.tracing?.contexts.getStore();

/** `trace_id` and `span_id` for a log line written while a traced request is served (lib/log.ts). */
export function traceIds(): { trace_id: string; span_id: string } | undefined {
  const context = activeContext();
  const spanContext = context && trace.getSpanContext(context);
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : undefined;
}
