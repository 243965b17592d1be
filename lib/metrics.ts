/**
 * Prometheus metrics (SPEC §11) through prom-client: one Registry per process, with Node's default
 * process metrics, Gatehouse's counters and histograms, and build info. The compiled server and
 * each of Next's bundles load their own copy of this module (and of prom-client); the first copy
 * to run creates the registry and every metric, the others find them through `processWide`.
 *
 * Label values come from closed sets (below, and the route labels of lib/server/request-done.ts),
 * never from what a client sent, so the number of series is bounded. Series that can exist are
 * created at 0 by `prepareSeries` once the configuration is known (the metrics listener calls it),
 * so a rate or ratio over them reads 0 rather than "no data" before the first event.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import pkg from '../package.json';
import { processWide } from './process-wide';
import { ROUTES } from './routes';

export const LOGIN_OUTCOMES = ['success', 'failure'] as const;
export const LOGOUT_CHANNELS = ['rp_initiated', 'local', 'front_channel', 'back_channel'] as const;
export const REFRESH_OUTCOMES = ['success', 'rejected', 'unavailable', 'store_unavailable'] as const;
/** `refused`: the upstream could not be reached (502); `aborted`: the client left before the answer. */
export const UPSTREAM_OUTCOMES = ['ok', 'timeout', 'refused', 'too_large', 'aborted'] as const;
/** `end-session` is classified but never prepared: RP-initiated logout sends the browser there, not Gatehouse. */
export const IDP_OPERATIONS = ['discovery', 'token', 'refresh', 'jwks', 'par', 'end-session'] as const;
/** `rejected`: the IdP answered 4xx (e.g. `invalid_grant`); `error`: any other non-2xx answer. */
export const IDP_OUTCOMES = ['ok', 'rejected', 'error', 'timeout', 'unreachable'] as const;
/** The `status` label of request metrics: a class, or `aborted` when no answer went out. */
export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'aborted'] as const;

export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];
export type UpstreamOutcome = (typeof UPSTREAM_OUTCOMES)[number];
export type IdpOperation = (typeof IDP_OPERATIONS)[number];
export type IdpOutcome = (typeof IDP_OUTCOMES)[number];
export type StoreKind = 'redis' | 'cookie';

/** Store reads answer in milliseconds; Redis gives up after 400 ms (lib/redis.ts). */
const STORE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1];
/** IdP calls time out after 5 s (lib/oidc/client.ts). */
const IDP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Time to the upstream's response headers; UPSTREAM_TIMEOUT defaults to 30 s. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function create() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const logins = new Counter({ name: 'gatehouse_logins_total', help: 'Completed logins by outcome', labelNames: ['outcome'], registers });
  return {
    registry,
    loginsCounter: logins,
    /** Replaced once by `countSessionsWith`: only a store that can tell registers the gauge. */
    sessionsActive: null as Gauge | null,
    metrics: {
      // Callers may say which store took the session; that is no label here (the SPEC's set is
      // {outcome}): gatehouse_store_fallbacks_total counts the logins that fell back to a cookie.
      logins: { inc: ({ outcome }: { outcome: LoginOutcome; store?: string }) => logins.inc({ outcome }) },
      logouts: new Counter({ name: 'gatehouse_logouts_total', help: 'Ended sessions by logout channel', labelNames: ['channel'], registers }),
      refreshes: new Counter({ name: 'gatehouse_refreshes_total', help: 'Token refreshes by outcome', labelNames: ['outcome'], registers }),
      storeErrors: new Counter({ name: 'gatehouse_store_errors_total', help: 'Session store calls that failed or timed out', labelNames: ['store'], registers }),
      storeFallbacks: new Counter({ name: 'gatehouse_store_fallbacks_total', help: 'New sessions kept in a cookie because Redis was unavailable', registers }),
      storeLatency: new Histogram({ name: 'gatehouse_store_latency_seconds', help: 'Session store read latency', labelNames: ['store'], buckets: STORE_BUCKETS, registers }),
      httpRequests: new Counter({
        name: 'gatehouse_http_requests_total',
        help: 'Answered requests by route (an /oauth2 endpoint, an upstream prefix, app or invalid), method and status class',
        labelNames: ['route', 'method', 'status'],
        registers,
      }),
      httpRequestDuration: new Histogram({
        name: 'gatehouse_http_request_duration_seconds',
        help: 'Time from arrival to the end of the answer, by route, method and status class',
        labelNames: ['route', 'method', 'status'],
        registers,
      }),
      upstreamRequestDuration: new Histogram({
        name: 'gatehouse_upstream_request_duration_seconds',
        help: "Time until an upstream's response headers (or the failure), by upstream prefix and outcome",
        labelNames: ['upstream', 'outcome'],
        buckets: UPSTREAM_BUCKETS,
        registers,
      }),
      idpRequestDuration: new Histogram({
        name: 'gatehouse_idp_request_duration_seconds',
        help: "Time until the identity provider's response headers (or the failure), by operation and outcome",
        labelNames: ['operation', 'outcome'],
        buckets: IDP_BUCKETS,
        registers,
      }),
      buildInfo: new Gauge({ name: 'gatehouse_build_info', help: 'Always 1; the labels say which Gatehouse and which Node.js run', labelNames: ['version', 'node'], registers }),
    },
  };
}

const state = processWide('metrics.registry', create);
state.metrics.buildInfo.set({ version: pkg.version, node: process.version }, 1);

export const metrics = state.metrics;

/** The registry's text exposition and its content type, for the metrics listener. */
export const metricsText = () => state.registry.metrics();
export const metricsContentType = state.registry.contentType;

export interface SeriesPlan {
  /** The configured upstream prefixes: `route` and `upstream` label values. */
  upstreams: readonly string[];
  /** The stores sessions can be read from: `cookie` always, `redis` when configured. */
  stores: readonly StoreKind[];
}

/**
 * Creates at 0 every series that can exist. For the request metrics that is a lot (every route ×
 * method × status class, times each histogram bucket): the counter gets every route label with
 * GET and POST and every status class, so per-route error ratios read 0; the duration histogram's
 * series appear with their first request. Idempotent.
 */
export function prepareSeries(plan: SeriesPlan): void {
  const m = state.metrics;
  for (const outcome of LOGIN_OUTCOMES) state.loginsCounter.inc({ outcome }, 0);
  for (const channel of LOGOUT_CHANNELS) m.logouts.inc({ channel }, 0);
  for (const outcome of REFRESH_OUTCOMES) m.refreshes.inc({ outcome }, 0);
  m.storeFallbacks.inc(0);
  for (const store of plan.stores) {
    m.storeLatency.zero({ store });
    if (store === 'redis') m.storeErrors.inc({ store }, 0); // the cookie store cannot fail
  }
  const routes = [...Object.values(ROUTES), '/oauth2/other', 'app', ...plan.upstreams];
  for (const route of routes) {
    for (const method of ['GET', 'POST']) {
      for (const status of STATUS_CLASSES) m.httpRequests.inc({ route, method, status }, 0);
    }
  }
  m.httpRequests.inc({ route: 'invalid', method: 'GET', status: '4xx' }, 0);
  for (const upstream of plan.upstreams) {
    for (const outcome of UPSTREAM_OUTCOMES) m.upstreamRequestDuration.zero({ upstream, outcome });
  }
  for (const operation of IDP_OPERATIONS) {
    if (operation === 'end-session') continue;
    for (const outcome of IDP_OUTCOMES) m.idpRequestDuration.zero({ operation, outcome });
  }
}

/**
 * Registers `gatehouse_sessions_active` for a store that can count its sessions (Redis:
 * lib/session/redis-store.ts `countActive`; the cookie store keeps nothing to count). Counted when scraped;
 * scrapes at the same time share one count; NaN while the count fails (Redis down), never a
 * made-up 0. Once per process.
 */
export function countSessionsWith(count: () => Promise<number>): void {
  if (state.sessionsActive) return;
  let pending: Promise<number> | null = null;
  state.sessionsActive = new Gauge({
    name: 'gatehouse_sessions_active',
    help: 'Sessions the store holds now, across all replicas (counted when scraped)',
    registers: [state.registry],
    async collect() {
      pending ??= count().finally(() => {
        pending = null;
      });
      try {
        this.set(await pending);
      } catch {
        this.set(Number.NaN);
      }
    },
  });
}
