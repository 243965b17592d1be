// A real OTLP/HTTP trace receiver for tests: `POST /v1/traces` with the JSON encoding (what
// @opentelemetry/exporter-trace-otlp-http sends), answered like a Collector does (200 `{}`).
// It keeps every body as received (to search the whole export for secrets) and the spans decoded,
// one flat record per span with its resource and attributes as plain values.
//
//   const otlp = await startOtlpReceiver();
//   env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' }
//   const spans = await otlp.waitForSpans((all) => all.some((s) => s.name === 'GET /api'));

import { Buffer } from 'node:buffer';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { listen } from '../../dev/listen';
import { eventually } from './wait';

export type AttributeValue = string | number | boolean | null | AttributeValue[];

/** One exported span, flattened out of resourceSpans → scopeSpans → spans. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** 'server' | 'client' | 'internal' | … */
  kind: string;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  scope: string;
  /** 'unset' | 'ok' | 'error'. */
  status: string;
  startNs: bigint;
  endNs: bigint;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  endpoint: string;
  /** Every export body as received (decompressed), in order. */
  bodies: string[];
  spans(): ReceivedSpan[];
  /** Waits until `until(spans)` holds for everything received so far; resolves with the spans. */
  waitForSpans(until: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];

interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue { key: string; value: OtlpValue }

function plain(value: OtlpValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  return null;
}

const attributesOf = (list: OtlpKeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));

/** The OTLP JSON encoding: ids as hex strings, enums as numbers, 64-bit ints as strings or numbers. */
export function decodeTraces(body: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const request = JSON.parse(body) as { resourceSpans?: Array<{ resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: Array<{ scope?: { name?: string }; spans?: Array<Record<string, unknown>> }> }> };
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: typeof s.parentSpanId === 'string' ? s.parentSpanId : '',
          name: String(s.name),
          kind: KINDS[Number(s.kind ?? 0)] ?? String(s.kind),
          attributes: attributesOf(s.attributes as OtlpKeyValue[] | undefined),
          resource,
          scope: ss.scope?.name ?? '',
          status: STATUSES[Number((s.status as { code?: number } | undefined)?.code ?? 0)] ?? 'unset',
          startNs: BigInt(String(s.startTimeUnixNano ?? 0)),
          endNs: BigInt(String(s.endTimeUnixNano ?? 0)),
        });
      }
    }
  }
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: string[] = [];
  let decoded: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415, { 'content-type': 'application/json' }).end('{"message":"this receiver decodes the JSON encoding only"}');
        return;
      }
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      try {
        decoded = [...decoded, ...decodeTraces(body)];
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (error as Error).message }));
        return;
      }
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const listening = await listen(server, 0, '127.0.0.1');
  return {
    endpoint: `http://127.0.0.1:${listening.port}`,
    bodies,
    spans: () => decoded,
    waitForSpans: (until, timeoutMs = 10_000) =>
      eventually('the spans expected at the OTLP receiver', timeoutMs, () => (until(decoded) ? decoded : undefined), {
        detail: () => `received:\n${decoded.map((s) => `  ${s.traceId} ${s.spanId} <- ${s.parentSpanId || 'root'} ${s.kind} ${s.name}`).join('\n')}`,
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
