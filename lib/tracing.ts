/**
 * OpenTelemetry traces (SPEC §11), started once by the server when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `…_TRACES_ENDPOINT`) is set: spans go in batches to the OTLP/HTTP endpoint as JSON.
 *
 * The SDK is loaded only then (dynamic imports): with tracing off none of it is in the process, and
 * the span helpers (lib/tracing-spans.ts) cost one property read. Only the SDK's pieces are used
 * (sdk-trace-base, the OTLP/HTTP exporter, resources), not sdk-node or auto-instrumentations: their
 * require hooks cannot see into the esbuild bundle dist/server.js, and Gatehouse makes its few
 * spans itself. The provider is never registered globally (lib/tracing-context.ts says why).
 *
 * The SDK reads its standard variables itself (lib/tracing-config.ts): OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT, _COMPRESSION, the certificates, OTEL_TRACES_SAMPLER(_ARG) (default: parent-based,
 * always on), OTEL_BSP_* (batching), OTEL_SPAN_*_LIMIT, OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES (service.name defaults to `gatehouse`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DiagLogger } from '@opentelemetry/api';
import pkg from '../package.json';
import { log } from './log';
import { redactedTracing, type TracingConfig } from './tracing-config';
import { tracingState } from './tracing-context';
import { traceRedisCommands } from './tracing-redis';

/** The SDK's own complaints (an export that failed, a bad OTEL_* value) as Gatehouse log lines. */
const diagToLog: DiagLogger = {
  error: (message) => log.warn(`tracing: ${message}`),
  warn: (message) => log.warn(`tracing: ${message}`),
  info: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

/** Starts exporting spans; a no-op when `config` is null (tracing off) or it already runs. */
export async function startTracing(config: TracingConfig | null): Promise<void> {
  if (!config || tracingState.tracing) return;
  const [api, { W3CTraceContextPropagator }, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // The one global touched: where the SDK's diagnostics go. It turns no tracing on anywhere.
  api.diag.setLogger(diagToLog, api.DiagLogLevel.WARN);
  // Later merges win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) over the defaults.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': 'gatehouse', 'service.version': pkg.version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const exporter = new OTLPTraceExporter({ url: config.tracesEndpoint.href });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  tracingState.tracing = {
    tracer: provider.getTracer('gatehouse', pkg.version),
    propagator: new W3CTraceContextPropagator(),
    contexts: new AsyncLocalStorage(),
    shutdown: () => provider.shutdown(),
  };
  traceRedisCommands(tracingState.tracing);
  log.info('tracing on', redactedTracing(config));
}

/** Bound on the last export at shutdown: an unreachable collector must not hold the exit. */
const FLUSH_LIMIT_MS = 2_000;

/**
 * Exports what is still queued and stops (SIGTERM: lib/server/shutdown.ts). Spans that end after
 * this are dropped. Resolves within FLUSH_LIMIT_MS whatever the collector does.
 */
export async function stopTracing(): Promise<void> {
  const tracing = tracingState.tracing;
  if (!tracing) return;
  tracingState.tracing = null;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    tracing.shutdown().catch((error: unknown) => log.warn('tracing: the last export failed', { error: error as Error })),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_LIMIT_MS))),
  ]);
  clearTimeout(timer);
}
