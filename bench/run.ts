// `npm run bench`: Gatehouse against a direct call to the same upstream (SPEC §9) and against the
// "Node ceiling" (bench/ceiling.ts: the least a Node session proxy does per request, issue 9), with
// real parts: the dev IdP, redis-server on a free port, a minimal upstream and the ceiling each in
// its own process (the ceiling twice: alone, and with Next.js loaded beside it), and two production Gatehouse servers (cookie store, Redis store). The load
// generator runs in this process. Then the refresh-under-concurrency check on two replicas sharing
// Redis, and, when asked for, a memory soak.
//
// Prints a table and writes bench/results/latest.json. Exits non-zero only when the setup fails;
// measurements (errors, a failed refresh check) are reported, not thrown.
//
// Knobs (environment): BENCH_CONNECTIONS (32), BENCH_WARMUP_MS (2000 per run), BENCH_DURATION_MS
// (8000 measured per scenario), BENCH_ROUNDS (2: the measured time is split into interleaved runs),
// BENCH_REFRESH_SESSIONS (4), BENCH_REFRESH_PARALLEL (50), BENCH_SOAK_MS (0 = no soak; e.g. 600000
// for issue 9's ten minutes), BENCH_TRACING (1 = a fifth scenario: the Redis store with traces
// exported to a local OTLP sink, compared with the same store without); NEXT_DIST_DIR selects the build.
//
// This file is the order of events; the parts live beside it: knobs.ts (the environment),
// setup.ts (starting and stopping the stack, the scenarios), measure.ts (load runs with CPU
// accounting), report.ts (printing and latest.json), load.ts, procstat.ts, refresh.ts, soak.ts,
// upstream.ts and ceiling.ts (with ceiling-session.ts, serve.ts, next-environment.ts).

import { CONNECTIONS, DURATION_MS, REFRESH_PARALLEL, REFRESH_SESSIONS, REFRESH_TOKEN_TTL_S, ROUNDS, SOAK_MS, WARMUP_MS } from './knobs';
import { measureOnce, measureSingleConnection, scenarioResult, type Run } from './measure';
import { runRefreshScenario } from './refresh';
import { ceilingRatios, printCeilingRatios, printRatios, printRefresh, printSingleConnection, printSoak, printTable, printTracingCost, ratios, reportWarnings, tracingCost, writeResults } from './report';
import { ensureBuild, setUpBench, stopAll, type Scenario } from './setup';
import { soak } from './soak';

async function main(): Promise<number> {
  const t0 = Date.now();
  ensureBuild();

  // --- setup -------------------------------------------------------------------------------
  const { upstream, ghCookie, ghRedis, replicas, refreshIdp, scenarios: byRole } = await setUpBench(t0);
  // The two ceilings run right after the direct call in every round, before the two stores.
  // With BENCH_TRACING=1 the tracing Gatehouse runs last, right after the same store without.
  const scenarios = [byRole.direct, byRole.ceiling, byRole.ceilingInNext, byRole.cookie, byRole.redis, ...(byRole.tracing ? [byRole.tracing] : [])];

  // --- throughput and latency ------------------------------------------------------------------
  console.log(`bench: ${CONNECTIONS} connections; per scenario ${ROUNDS} interleaved runs of ${WARMUP_MS} ms warm-up + ${DURATION_MS / ROUNDS} ms\n`);
  // Interleaved rounds: background load on a shared machine drifts, and each scenario should see
  // the same drift. Same pool, same load generator, same upstream and Redis for all four.
  const runs = new Map<Scenario, Run[]>(scenarios.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of scenarios) runs.get(s)!.push(await measureOnce(s, upstream));
  }
  const results = scenarios.map((s) => scenarioResult(s, runs.get(s)!));
  printTable(results);
  const [direct, ceiling, ceilingInNext, cookie, viaRedis] = results;
  const ratioTable = { ceiling: ratios(direct, ceiling), cookie: ratios(direct, cookie), redis: ratios(direct, viaRedis) };
  printRatios(ratioTable);
  const ceilingTable = { nextEnvironment: ceilingRatios(ceiling, ceilingInNext), cookie: ceilingRatios(ceiling, cookie), redis: ceilingRatios(ceiling, viaRedis) };
  printCeilingRatios(ceiling, ceilingTable, { nextEnvironment: ceilingInNext, cookie, redis: viaRedis });
  const tracing = byRole.tracing?.sink ? tracingCost(viaRedis, results[5], await sinkStats(byRole.tracing.sink.url)) : undefined;
  if (tracing) printTracingCost(tracing);

  // --- latency without queueing: one connection ---------------------------------------------
  // Under the closed loop above, something saturates (a Gatehouse event loop, or the generator
  // itself for the direct call) and latency is mostly queueing. One request at a time shows what
  // a request costs on its own.
  const single = await measureSingleConnection(scenarios);
  printSingleConnection(single);

  // --- refresh under concurrency -------------------------------------------------------------
  const refresh = await runRefreshScenario({
    replicas,
    idp: refreshIdp,
    sessions: REFRESH_SESSIONS,
    parallel: REFRESH_PARALLEL,
    rounds: [{ idpDelayMs: 0 }, { idpDelayMs: 300 }],
    cooldownMs: Math.floor((REFRESH_TOKEN_TTL_S * 1000) / 2),
  });
  printRefresh(refresh);

  // --- memory soak (optional) ----------------------------------------------------------------
  const soaked = SOAK_MS > 0 ? await soak([byRole.cookie, byRole.redis], SOAK_MS) : null;
  if (soaked) printSoak(soaked);

  const warnings = reportWarnings([
    ['gatehouse cookie', ghCookie],
    ['gatehouse redis', ghRedis],
    ['replica 1', replicas[0]],
    ['replica 2', replicas[1]],
  ]);

  writeResults({ scenarios: results, ratios: ratioTable, ceilingRatios: ceilingTable, singleConnection: single, refresh, soak: soaked, tracing, gatehouseWarnings: warnings }, t0);
  return 0;
}

/** What the OTLP sink received (bench/otlp-sink.ts). */
async function sinkStats(url: string): Promise<{ exports: number; bytes: number }> {
  return (await (await fetch(`${url}/__stats`)).json()) as { exports: number; bytes: number };
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`bench: ${signal}, stopping everything`);
    void stopAll().finally(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    console.error(`bench: setup failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  })
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  });
