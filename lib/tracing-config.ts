/**
 * Whether traces are exported, from the standard OpenTelemetry variables (SPEC §2, §11). Pure: it
 * reads the environment config.ts hands it, so config.ts stays the only reader of `process.env`.
 *
 * Who reads what: the OTEL_* variables are the SDK's, with meanings the OpenTelemetry spec fixes,
 * and the SDK reads them itself at startup (headers, timeouts, compression, sampler, batch sizes,
 * resource attributes). Gatehouse reads only the switch (an endpoint) and checks the values that a
 * typo would otherwise silently turn into a default (the SDK only logs "defaulting to …"): an
 * endpoint that is no URL, a protocol Gatehouse does not speak, an unknown sampler. Those stop the
 * start with a message naming the variable, like every other setting. `OTEL_EXPORTER_OTLP_HEADERS`
 * (where collectors' API keys live) never enters the Config, so it cannot reach a log line.
 */

export interface TracingConfig {
  /** Where spans go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  tracesEndpoint: URL;
}

type Env = Record<string, string | undefined>;

const SAMPLERS = new Set(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']);
/** The exporter sends OTLP/HTTP with JSON bodies, which every OTLP/HTTP receiver must accept beside protobuf. */
const PROTOCOLS = new Set(['http/json', 'http/protobuf']);

const value = (env: Env, name: string) => env[name]?.trim() || undefined;

function endpointUrl(raw: string, name: string, problems: string[]): URL | null {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch { /* reported below */ }
  problems.push(`${name}: "${raw}" is not an http(s) URL (e.g. http://otel-collector:4318)`);
  return null;
}

/** The OTLP/HTTP rule: the signal path is appended to the general endpoint, never to the signal's own. */
function tracesUrl(base: URL): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url;
}

/** `null`: tracing off (no endpoint, `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`). Problems name their variable. */
export function tracingConfig(env: Env, problems: string[]): TracingConfig | null {
  const general = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const traces = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const exporter = value(env, 'OTEL_TRACES_EXPORTER');
  if (exporter && exporter !== 'otlp' && exporter !== 'none') problems.push(`OTEL_TRACES_EXPORTER: "${exporter}" is not supported (otlp or none)`);
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    const protocol = value(env, name);
    if (protocol && !PROTOCOLS.has(protocol)) problems.push(`${name}: "${protocol}" is not supported: Gatehouse exports OTLP over HTTP (http/json; an OTLP/HTTP receiver such as the Collector's port 4318 accepts it)`);
  }
  const sampler = value(env, 'OTEL_TRACES_SAMPLER');
  if (sampler && !SAMPLERS.has(sampler)) problems.push(`OTEL_TRACES_SAMPLER: "${sampler}" is not one of ${[...SAMPLERS].join(', ')}`);
  const ratio = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (ratio && sampler?.endsWith('traceidratio') && !(Number(ratio) >= 0 && Number(ratio) <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG: "${ratio}" is not a ratio from 0 to 1`);

  const generalUrl = general ? endpointUrl(general, 'OTEL_EXPORTER_OTLP_ENDPOINT', problems) : null;
  const tracesOwn = traces ? endpointUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', problems) : null;
  const off = value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true' || exporter === 'none';
  if (off || (!general && !traces)) return null;
  const tracesEndpoint = tracesOwn ?? (generalUrl && tracesUrl(generalUrl));
  return tracesEndpoint ? { tracesEndpoint } : null;
}

/** For the startup log line: the endpoint without userinfo or query (a collector's key may sit there). */
export const redactedTracing = (config: TracingConfig) => ({ tracesEndpoint: `${config.tracesEndpoint.origin}${config.tracesEndpoint.pathname}` });
