// What `npm run bench` prints and records: the throughput table, the Gatehouse / direct and
// Gatehouse / Node ceiling ratios, the one-connection latencies, the refresh-under-concurrency
// rounds with their verdict, the optional soak, Gatehouse's own warnings, and
// bench/results/latest.json. Formatting only; every number is measured elsewhere.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, type App } from '../test/harness/app';
import { CEILING_TARGETS, CONNECTIONS, DIST_DIR, DURATION_MS, REFRESH_TOKEN_TTL_S, RESULTS, ROUNDS, SINGLE_MS, SOAK_MS, WARMUP_MS } from './knobs';
import type { ScenarioResult, SingleConnectionResult } from './measure';
import type { RefreshResult } from './refresh';
import type { SoakResult } from './soak';

const f = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

/** The throughput table, one row per scenario, the statuses of any that had errors, the core count. */
export function printTable(results: ScenarioResult[]) {
  const header = ['scenario', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'proxy cpu ms/req', 'upstr. cpu ms/req', 'redis cpu ms/req', 'gen. cpu ms/req', 'upstr. conns', 'cores busy', 'of which others'];
  const rows = results.map((r) => [
    r.name,
    f(r.rps, 0),
    f(r.latencyMs.p50),
    f(r.latencyMs.p90),
    f(r.latencyMs.p99),
    f(r.latencyMs.max, 1),
    String(r.errors),
    f(r.cpuMsPerRequest.proxy, 3),
    f(r.cpuMsPerRequest.upstream, 3),
    f(r.cpuMsPerRequest.redis, 3),
    f(r.cpuMsPerRequest.loadGenerator, 3),
    String(r.upstreamConnectionsOpened),
    f(r.coresBusy.machine),
    f(r.coresBusy.others),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  for (const r of results) {
    if (r.errors) console.log(`  ${r.name}: statuses ${JSON.stringify(r.statuses)}`);
  }
  console.log(`(${os.cpus().length} cores shared by the load generator, the upstream, the proxies and Redis; "proxy" = Gatehouse or the Node ceiling; "others" = CPU of processes the bench did not start)`);
}

/** A proxied scenario relative to the direct call. */
export type Ratios = ReturnType<typeof ratios>;

/** Throughput, latency and added latency of `gh` (a Gatehouse or the ceiling) relative to `direct`. */
export function ratios(direct: ScenarioResult, gh: ScenarioResult) {
  return {
    throughput: gh.rps / direct.rps,
    p50: gh.latencyMs.p50 / direct.latencyMs.p50,
    p99: gh.latencyMs.p99 / direct.latencyMs.p99,
    addedP50Ms: gh.latencyMs.p50 - direct.latencyMs.p50,
    addedP99Ms: gh.latencyMs.p99 - direct.latencyMs.p99,
    proxyCpuMsPerRequest: gh.cpuMsPerRequest.proxy,
  };
}

/** A Gatehouse scenario relative to the Node ceiling. */
export type CeilingRatios = ReturnType<typeof ceilingRatios>;

/** CPU per request (proxy process only) and latency of `gh` relative to the Node ceiling, against issue 9's targets. */
export function ceilingRatios(ceiling: ScenarioResult, gh: ScenarioResult) {
  const cpuPerRequest = (gh.cpuMsPerRequest.proxy ?? NaN) / (ceiling.cpuMsPerRequest.proxy ?? NaN);
  const p99 = gh.latencyMs.p99 / ceiling.latencyMs.p99;
  return {
    cpuPerRequest,
    p99,
    p50: gh.latencyMs.p50 / ceiling.latencyMs.p50,
    throughput: gh.rps / ceiling.rps,
    targets: CEILING_TARGETS,
    withinTargets: { cpuPerRequest: cpuPerRequest <= CEILING_TARGETS.cpuPerRequest, p99: p99 <= CEILING_TARGETS.p99 },
  };
}

type AgainstCeiling = 'nextEnvironment' | 'cookie' | 'redis';

/**
 * One line for the ceiling in Next's environment (what hosting Next costs by itself), one per
 * Gatehouse store against the ceiling, then the cookie store against the Redis store.
 */
export function printCeilingRatios(ceiling: ScenarioResult, table: Record<AgainstCeiling, CeilingRatios>, stores: Record<AgainstCeiling, ScenarioResult>) {
  const mark = (ok: boolean) => (ok ? 'within' : 'OVER');
  console.log(`\nGatehouse / Node ceiling (proxy CPU per request, latency under the same load; issue 9 targets CPU x${CEILING_TARGETS.cpuPerRequest}, p99 x${CEILING_TARGETS.p99}):`);
  console.log(`  ceiling         CPU ${f(ceiling.cpuMsPerRequest.proxy, 3)} ms/request  p50 ${f(ceiling.latencyMs.p50)} ms  p99 ${f(ceiling.latencyMs.p99)} ms  ${f(ceiling.rps, 0)} req/s`);
  const labels: Record<AgainstCeiling, string> = { nextEnvironment: 'ceiling in Next', cookie: 'cookie', redis: 'redis' };
  for (const [name, r] of Object.entries(table)) {
    const gh = stores[name as AgainstCeiling];
    console.log(
      `  ${labels[name as AgainstCeiling].padEnd(15)} CPU x${f(r.cpuPerRequest)} (${f(gh.cpuMsPerRequest.proxy, 3)} ms, ${mark(r.withinTargets.cpuPerRequest)})` +
        `  p99 x${f(r.p99)} (${f(gh.latencyMs.p99)} ms, ${mark(r.withinTargets.p99)})  p50 x${f(r.p50)}  throughput x${f(r.throughput)}`,
    );
  }
  const cpu = (stores.cookie.cpuMsPerRequest.proxy ?? NaN) / (stores.redis.cpuMsPerRequest.proxy ?? NaN);
  console.log(`  cookie / redis store: CPU x${f(cpu)}  p99 x${f(stores.cookie.latencyMs.p99 / stores.redis.latencyMs.p99)} (target: cookie no slower)`);
}

/** One line per proxied scenario: how it compares with the direct call. */
export function printRatios(ratioTable: Record<string, Ratios>) {
  console.log('\nProxy / direct:');
  for (const [name, r] of Object.entries(ratioTable)) {
    console.log(
      `  ${name.padEnd(7)} throughput x${f(r.throughput)}  p50 x${f(r.p50)} (+${f(r.addedP50Ms)} ms)  p99 x${f(r.p99)} (+${f(r.addedP99Ms)} ms)  CPU ${f(r.proxyCpuMsPerRequest, 3)} ms/request`,
    );
  }
}

/** One line per scenario; the first (direct) is the baseline for the added p50. */
export function printSingleConnection(single: SingleConnectionResult[]) {
  console.log(`\nOne connection, ${SINGLE_MS} ms each (latency without queueing):`);
  for (const r of single) {
    const added = r.latencyMs.p50 - single[0].latencyMs.p50;
    console.log(
      `  ${r.name.padEnd(17)} ${f(r.rps, 0).padStart(6)} req/s  p50 ${f(r.latencyMs.p50, 3)} ms  p99 ${f(r.latencyMs.p99, 3)} ms  errors ${r.errors}` +
        (r === single[0] ? '' : `  (+${f(added, 3)} ms p50 over direct)`),
    );
  }
}

/** Every round and session of the refresh check, then the verdict. */
export function printRefresh(r: RefreshResult) {
  console.log(`\nRefresh under concurrency: ${r.parallel} parallel requests per session at the moment its refresh is due,`);
  console.log(`spread over ${r.replicas} replicas sharing Redis; IdP rotates refresh tokens (access token ${REFRESH_TOKEN_TTL_S} s).`);
  for (const round of r.rounds) {
    console.log(`  round ${round.round} (IdP token endpoint delay ${round.idpDelayMs} ms, burst ${round.burstMs} ms, refresh grant errors at IdP: ${round.refreshGrantErrors})`);
    for (const s of round.sessions) {
      console.log(
        `    ${s.sub.padEnd(16)} due=${s.due ? 'yes' : 'NO '}  refresh grants=${s.refreshGrants}  errors=${s.errors}/${s.requests}` +
          `  new token on ${s.servedWithNewToken}/${s.requests}  distinct tokens=${s.distinctTokens}  alive after=${s.aliveAfter ? 'yes' : 'NO'}` +
          (s.errors ? `  statuses=${JSON.stringify(s.statuses)}` : ''),
      );
    }
  }
  console.log(`  verdict: ${r.ok ? 'OK — one refresh grant per session and round, no errors' : 'FAILED — see above'}`);
}

/** Each soaked server's requests and resident memory at the start, middle and end. */
export function printSoak(results: SoakResult[]) {
  console.log(`\nSoak: ${SOAK_MS} ms of load on both Gatehouse servers at once, after a ${WARMUP_MS} ms warm-up; resident memory (MiB):`);
  for (const r of results) {
    const { start, middle, end } = r.rssMiB;
    console.log(
      `  ${r.name.padEnd(17)} ${r.connections} conns  ${r.requests} requests (${f(r.rps, 0)} req/s, p99 ${f(r.p99Ms)} ms, errors ${r.errors})` +
        `  RSS start ${f(start, 1)}  middle ${f(middle, 1)}  end ${f(end, 1)}  (end - start ${end - start >= 0 ? '+' : ''}${f(end - start, 1)}; max ${f(Math.max(...r.rssSamplesMiB), 1)})`,
    );
  }
}

/** Gatehouse's own warnings and errors, plus anything else that looks like one (Next, Node). */
function warnLines(app: App): string[] {
  return app.logs.filter((l) => (l.startsWith('{') ? /"level":"(warn|error)"/.test(l) : /warn|error|exception/i.test(l)));
}

/** Each app's warning/error log lines, by name; the first three of each are printed. */
export function reportWarnings(apps: Array<[string, App]>): Record<string, string[]> {
  const warnings = Object.fromEntries(apps.map(([n, a]) => [n, warnLines(a)]));
  for (const [name, lines] of Object.entries(warnings)) {
    if (lines.length) console.log(`\n${name}: ${lines.length} warning/error log lines, first: ${lines.slice(0, 3).join('\n  ')}`);
  }
  return warnings;
}

/** BENCH_TRACING=1: what exporting every request's spans costs, against the same store without. */
export type TracingCost = ReturnType<typeof tracingCost>;

export function tracingCost(off: ScenarioResult, on: ScenarioResult, sink: { exports: number; bytes: number }) {
  return {
    cpuPerRequest: (on.cpuMsPerRequest.proxy ?? NaN) / (off.cpuMsPerRequest.proxy ?? NaN),
    addedCpuMsPerRequest: (on.cpuMsPerRequest.proxy ?? NaN) - (off.cpuMsPerRequest.proxy ?? NaN),
    p50: on.latencyMs.p50 / off.latencyMs.p50,
    p99: on.latencyMs.p99 / off.latencyMs.p99,
    throughput: on.rps / off.rps,
    sink,
  };
}

export function printTracingCost(t: TracingCost) {
  console.log('\nTracing on / off (Redis store, every request sampled and exported to a local OTLP/HTTP sink):');
  console.log(
    `  CPU x${f(t.cpuPerRequest)} (+${f(t.addedCpuMsPerRequest, 3)} ms/request)  p50 x${f(t.p50)}  p99 x${f(t.p99)}  throughput x${f(t.throughput)}` +
      `  (sink received ${t.sink.exports} exports, ${f(t.sink.bytes / 1024 / 1024, 1)} MiB)`,
  );
}

export interface BenchReport {
  tracing?: TracingCost;
  scenarios: ScenarioResult[];
  ratios: Record<string, Ratios>;
  ceilingRatios: Record<string, CeilingRatios>;
  singleConnection: SingleConnectionResult[];
  refresh: RefreshResult;
  soak: SoakResult[] | null;
  gatehouseWarnings: Record<string, string[]>;
}

/** Writes bench/results/latest.json: the machine, the knobs, every result. */
export function writeResults(report: BenchReport, t0: number) {
  const elapsedS = (Date.now() - t0) / 1000;
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, distDir: DIST_DIR },
        load: { connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: DURATION_MS, rounds: ROUNDS, soakMs: SOAK_MS },
        scenarios: report.scenarios,
        ratios: report.ratios,
        ceilingRatios: report.ceilingRatios,
        singleConnection: report.singleConnection,
        refresh: report.refresh,
        soak: report.soak,
        tracing: report.tracing,
        gatehouseWarnings: report.gatehouseWarnings,
        elapsedSeconds: elapsedS,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nbench: wrote ${path.relative(ROOT, RESULTS)} (${elapsedS.toFixed(1)} s)`);
}
