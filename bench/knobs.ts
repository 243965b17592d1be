// The bench's knobs, read once from the environment, and the fixed sizes derived from them. One
// module so the setup, the measurement and the report agree on them (the report prints and records
// them next to the numbers they produced).

import path from 'node:path';
import { ROOT } from '../test/harness/app';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
export const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
export const WARMUP_MS = num('BENCH_WARMUP_MS', 2_000);
export const DURATION_MS = num('BENCH_DURATION_MS', 8_000);
/** The measured duration of a scenario is split into this many runs, interleaved with the others'. */
export const ROUNDS = Math.round(num('BENCH_ROUNDS', 2));
/** Duration of the one-connection latency run of each scenario. */
export const SINGLE_MS = 2_500;
/** Optional memory soak of both Gatehouse servers, ms of load; 0 (the default) skips it. */
export const SOAK_MS = num('BENCH_SOAK_MS', 0);
export const REFRESH_SESSIONS = num('BENCH_REFRESH_SESSIONS', 4);
export const REFRESH_PARALLEL = num('BENCH_REFRESH_PARALLEL', 50);
/** BENCH_TRACING=1: one more Gatehouse (Redis store) exporting every request's spans to a local OTLP sink. */
export const TRACING = process.env.BENCH_TRACING === '1';
/** Access-token lifetime at the refresh IdP: cooldown = half of it, so a refresh is due 2 s after the last. */
export const REFRESH_TOKEN_TTL_S = 4;

/** Issue 9's targets for each Gatehouse store relative to the Node ceiling (reported, not enforced). */
export const CEILING_TARGETS = { cpuPerRequest: 1.25, p99: 1.5 };

export const DIST_DIR = process.env.NEXT_DIST_DIR || '.next';
export const RESULTS = path.join(ROOT, 'bench', 'results', 'latest.json');
