// Measuring one scenario: a load run with CPU snapshots of every process involved (the proxy —
// Gatehouse or the Node ceiling —, upstream, Redis, this load generator, the whole machine) taken exactly at the measurement window's
// edges, the upstream's new connections counted, and runs of a scenario merged into one result.

import { httpRequest } from '../test/harness/http';
import { runLoad, summarize, type LoadResult, type RawLoad } from './load';
import { CONNECTIONS, DURATION_MS, ROUNDS, SINGLE_MS, WARMUP_MS } from './knobs';
import { clockTicks, cpuMs, machineTicks, processTree } from './procstat';
import type { Scenario, Upstream } from './setup';

/** CPU milliseconds spent during one measurement window, by whom. */
interface CpuSpent {
  /** Gatehouse or the Node ceiling, whole process tree. */
  proxy: number;
  upstream: number;
  redis: number;
  loadGenerator: number;
  /** All cores, every process on the machine (other people's too). */
  machine: number;
}

/** One load run of a scenario (one of ROUNDS). */
export interface Run {
  raw: RawLoad;
  cpu: CpuSpent;
  upstreamConnections: number;
}

export interface ScenarioResult extends LoadResult {
  name: string;
  runs: number;
  cpuMsPerRequest: { proxy: number | null; upstream: number; redis: number | null; loadGenerator: number };
  /** Average cores busy during the windows: the whole machine, and processes not started by the bench. */
  coresBusy: { machine: number; others: number };
  /** New TCP connections the upstream accepted during the runs (warm-ups included). */
  upstreamConnectionsOpened: number;
}

/** A scenario measured over one connection (no queueing). */
export type SingleConnectionResult = LoadResult & { name: string };

async function upstreamStats(upstream: Upstream): Promise<{ connections: number; requests: number }> {
  const res = await httpRequest(`${upstream.url}/__stats`);
  return (await res.json()) as { connections: number; requests: number };
}

/** One warm-up plus a DURATION_MS / ROUNDS window of `s` with CONNECTIONS connections. */
export async function measureOnce(s: Scenario, upstream: Upstream): Promise<Run> {
  const proxyTree = s.proxy ? processTree(s.proxy.process.pid!) : [];
  const upTree = processTree(upstream.process.pid!);
  const redisPid = s.redis?.process?.pid;
  const snap = () => {
    const self = process.cpuUsage();
    return {
      proxy: cpuMs(proxyTree),
      upstream: cpuMs(upTree),
      redis: redisPid ? cpuMs([redisPid]) : 0,
      loadGenerator: (self.user + self.system) / 1000,
      machine: (machineTicks().busy * 1000) / clockTicks(),
    };
  };
  let before = snap();
  let after = before;
  const stats0 = await upstreamStats(upstream);
  const raw = await runLoad({
    url: s.url,
    headers: s.headers,
    connections: CONNECTIONS,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS / ROUNDS,
    onWindowStart: () => (before = snap()),
    onWindowEnd: () => (after = snap()),
  });
  const stats1 = await upstreamStats(upstream);
  const cpu = Object.fromEntries(Object.keys(before).map((k) => [k, after[k as keyof CpuSpent] - before[k as keyof CpuSpent]])) as unknown as CpuSpent;
  // Minus the connection of the second /__stats call itself.
  return { raw, cpu, upstreamConnections: stats1.connections - stats0.connections - 1 };
}

/** The runs of one scenario merged: latency over all of them, CPU per request, connections opened. */
export function scenarioResult(s: Scenario, runs: Run[]): ScenarioResult {
  const load = summarize(runs.map((r) => r.raw));
  const total = (k: keyof CpuSpent) => runs.reduce((a, r) => a + r.cpu[k], 0);
  const per = (ms: number) => (load.requests ? ms / load.requests : NaN);
  const ours = total('proxy') + total('upstream') + total('redis') + total('loadGenerator');
  return {
    name: s.name,
    runs: runs.length,
    ...load,
    cpuMsPerRequest: {
      proxy: s.proxy ? per(total('proxy')) : null,
      upstream: per(total('upstream')),
      redis: s.redis ? per(total('redis')) : null,
      loadGenerator: per(total('loadGenerator')),
    },
    coresBusy: { machine: total('machine') / load.windowMs, others: Math.max(0, total('machine') - ours) / load.windowMs },
    upstreamConnectionsOpened: runs.reduce((a, r) => a + r.upstreamConnections, 0),
  };
}

/** Each scenario in turn with one connection, SINGLE_MS each: what a request costs on its own. */
export async function measureSingleConnection(scenarios: Scenario[]): Promise<SingleConnectionResult[]> {
  const single: SingleConnectionResult[] = [];
  for (const s of scenarios) {
    single.push({ name: s.name, ...summarize([await runLoad({ url: s.url, headers: s.headers, connections: 1, warmupMs: 500, durationMs: SINGLE_MS })]) });
  }
  return single;
}
