// The optional soak (BENCH_SOAK_MS, off by default): both Gatehouse servers under load at the same
// time for BENCH_SOAK_MS, the connections split between them so the total load is the bench's
// usual CONNECTIONS, and each server's resident memory read at the start, the middle and the end
// of the window. Memory that keeps growing with the requests served is a leak; memory that grows
// once and then stays is a warm-up (heap sizing, pools), which is why the start is read after one.

import { runLoad, summarize } from './load';
import { CONNECTIONS, WARMUP_MS } from './knobs';
import { processTree, rssMiB } from './procstat';
import type { Scenario } from './setup';

export interface SoakResult {
  name: string;
  connections: number;
  durationMs: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  rps: number;
  p99Ms: number;
  /** Resident memory of the proxy's process tree, MiB. */
  rssMiB: { start: number; middle: number; end: number };
  /** The same every tenth of the window (garbage collection makes RSS a sawtooth; three points can
   *  land on a tooth), start first, end last. */
  rssSamplesMiB: number[];
}

/** Soaks every scenario's proxy concurrently for `durationMs` (after a WARMUP_MS warm-up). */
export function soak(scenarios: Scenario[], durationMs: number): Promise<SoakResult[]> {
  const connections = Math.max(1, Math.ceil(CONNECTIONS / scenarios.length));
  return Promise.all(
    scenarios.map(async (s) => {
      if (!s.proxy) throw new Error(`soak: scenario ${s.name} has no proxy process`);
      const tree = processTree(s.proxy.process.pid!);
      const rss = { start: NaN, middle: NaN, end: NaN };
      const samples: number[] = [];
      let middle: NodeJS.Timeout | undefined;
      let every: NodeJS.Timeout | undefined;
      const raw = await runLoad({
        url: s.url,
        headers: s.headers,
        connections,
        warmupMs: WARMUP_MS,
        durationMs,
        onWindowStart: () => {
          rss.start = rssMiB(tree);
          samples.push(rss.start);
          middle = setTimeout(() => (rss.middle = rssMiB(tree)), durationMs / 2);
          every = setInterval(() => samples.length < 10 && samples.push(rssMiB(tree)), durationMs / 10);
        },
        onWindowEnd: () => {
          clearTimeout(middle);
          clearInterval(every);
          rss.end = rssMiB(tree);
          samples.push(rss.end);
        },
      });
      const load = summarize([raw]);
      return { name: s.name, connections, durationMs, requests: load.requests, errors: load.errors, statuses: load.statuses, rps: load.rps, p99Ms: load.latencyMs.p99, rssMiB: rss, rssSamplesMiB: samples };
    }),
  );
}
