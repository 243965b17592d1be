// A small closed-loop load generator: `connections` workers, each sending one GET at a time over
// its own keep-alive connection and sending the next as soon as the answer has been read. Requests
// started during the warm-up are not counted; the measurement window runs from the end of the
// warm-up until the last worker has finished (no new requests start after `durationMs`).
// Latencies are kept whole (a few hundred thousand numbers at most) so percentiles are exact.

import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Called synchronously when the measurement window opens and when it closes (CPU snapshots). */
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
}

export interface LoadResult {
  requests: number;
  /** Non-200 answers plus transport errors. */
  errors: number;
  /** Count by status code; 'error' for transport errors. */
  statuses: Record<string, number>;
  /** The measurement window(s), ms. */
  windowMs: number;
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

/** One GET; resolves with the status after the body has been read, 0 on a transport error. */
function get(agent: http.Agent, url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers },
      (res) => {
        res.on('error', () => resolve(0));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** What one run measured, before summarising (runs of a scenario can be merged). */
export interface RawLoad {
  latencies: number[];
  statuses: Record<string, number>;
  windowMs: number;
}

export async function runLoad(opts: LoadOptions): Promise<RawLoad> {
  const url = new URL(opts.url);
  // A fresh agent per run: sockets left idle between scenarios may be closed by the server, and
  // reusing one at that moment would show up as an error that has nothing to do with the load.
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections, maxFreeSockets: opts.connections });
  const started = performance.now();
  const windowStart = started + opts.warmupMs;
  const stopAt = windowStart + opts.durationMs;
  let measuring = false;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};

  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= stopAt) return;
      const counted = measuring;
      const status = await get(agent, url, opts.headers);
      if (!counted) continue;
      latencies.push(performance.now() - t0);
      const key = status === 0 ? 'error' : String(status);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };

  const workers = Array.from({ length: opts.connections }, worker);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowStart - performance.now())));
  // Requests in flight across this moment were started in the warm-up and are not counted; the
  // window is a little longer than the requests in it (by at most one latency), a bias of < 0.1 %.
  measuring = true;
  const opened = performance.now();
  opts.onWindowStart?.();
  await Promise.all(workers);
  const closed = performance.now();
  opts.onWindowEnd?.();
  agent.destroy();
  return { latencies, statuses, windowMs: closed - opened };
}

/** Throughput and latency over one or more runs of the same scenario. */
export function summarize(runs: RawLoad[]): LoadResult {
  const statuses: Record<string, number> = {};
  let windowMs = 0;
  let sum = 0;
  for (const run of runs) {
    windowMs += run.windowMs;
    for (const [k, v] of Object.entries(run.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    for (const l of run.latencies) sum += l;
  }
  const sorted = Float64Array.from(runs.flatMap((r) => r.latencies)).sort();
  const requests = sorted.length;
  return {
    requests,
    errors: requests - (statuses['200'] ?? 0),
    statuses,
    windowMs,
    rps: requests / (windowMs / 1000),
    latencyMs: {
      mean: requests ? sum / requests : NaN,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: requests ? sorted[requests - 1] : NaN,
    },
  };
}
