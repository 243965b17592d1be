/**
 * Prometheus metrics (SPEC §9): logins, logouts by channel, refreshes by outcome, store latency and
 * fallbacks. A tiny registry in text exposition format; shared across Next's bundles via globalThis.
 */
import { processWide } from './process-wide';

type Labels = Record<string, string>;

const labelKey = (labels: Labels) =>
  Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',');

class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1) {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${value}`);
    return lines.join('\n');
  }
}

const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1];

class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string) {}
  observe(labels: Labels, seconds: number) {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((bound, i) => { if (seconds <= bound) s!.counts[i]++; });
    s.sum += seconds;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.series) {
      const sep = key ? `${key},` : '';
      BUCKETS.forEach((bound, i) => lines.push(`${this.name}_bucket{${sep}le="${bound}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ''} ${s.sum}`, `${this.name}_count${key ? `{${key}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

function createMetrics() {
  return {
    logins: new Counter('gatehouse_logins_total', 'Completed logins by outcome'),
    logouts: new Counter('gatehouse_logouts_total', 'Ended sessions by logout channel'),
    refreshes: new Counter('gatehouse_refreshes_total', 'Token refreshes by outcome'),
    storeErrors: new Counter('gatehouse_store_errors_total', 'Session store calls that failed or timed out'),
    storeFallbacks: new Counter('gatehouse_store_fallbacks_total', 'New sessions kept in a cookie because Redis was unavailable'),
    storeLatency: new Histogram('gatehouse_store_latency_seconds', 'Session store read latency'),
    httpRequests: new Counter('gatehouse_http_requests_total', 'Answered requests by route (an endpoint, an upstream prefix or app), method and status class'),
    httpRequestDuration: new Histogram('gatehouse_http_request_duration_seconds', 'Time from arrival to the end of the answer, by route, method and status class'),
  };
}

export const metrics = processWide('metrics', createMetrics);

export const renderMetrics = () => `${Object.values(metrics).map((m) => m.render()).join('\n')}\n`;
