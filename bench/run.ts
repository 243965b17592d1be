// `npm run bench`: Gatehouse against a direct call to the same upstream (SPEC §9), with real parts:
// the dev IdP, redis-server on a free port, a minimal upstream in its own process and two
// production Gatehouse servers (cookie store, Redis store). The load generator runs in this
// process. Then the refresh-under-concurrency check on two replicas sharing Redis.
//
// Prints a table and writes bench/results/latest.json. Exits non-zero only when the setup fails;
// measurements (errors, a failed refresh check) are reported, not thrown.
//
// Knobs (environment): BENCH_CONNECTIONS (32), BENCH_WARMUP_MS (2000 per run), BENCH_DURATION_MS
// (8000 measured per scenario), BENCH_ROUNDS (2: the measured time is split into interleaved runs),
// BENCH_REFRESH_SESSIONS (4), BENCH_REFRESH_PARALLEL (50); NEXT_DIST_DIR selects the build.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { demoClient, startIdp, type ClientSpec, type Idp } from '../dev/idp';
import { ROOT, startApp, type App } from '../test/harness/app';
import { baseAppEnv, testSecret } from '../test/harness/env';
import { Browser, FETCH_HEADERS, httpRequest, loginViaIdp } from '../test/harness/http';
import { freePort } from '../test/harness/ports';
import { terminate, track } from '../test/harness/processes';
import { startRedis, type RedisServer } from '../test/harness/redis';
import { runLoad, summarize, type LoadResult, type RawLoad } from './load';
import { clockTicks, cmdline, cpuMs, machineTicks, processTree } from './procstat';
import { runRefreshScenario, type RefreshResult } from './refresh';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const WARMUP_MS = num('BENCH_WARMUP_MS', 2_000);
const DURATION_MS = num('BENCH_DURATION_MS', 8_000);
/** The measured duration of a scenario is split into this many runs, interleaved with the others'. */
const ROUNDS = Math.round(num('BENCH_ROUNDS', 2));
/** Duration of the one-connection latency run of each scenario. */
const SINGLE_MS = 2_500;
const REFRESH_SESSIONS = num('BENCH_REFRESH_SESSIONS', 4);
const REFRESH_PARALLEL = num('BENCH_REFRESH_PARALLEL', 50);
/** Access-token lifetime at the refresh IdP: cooldown = half of it, so a refresh is due 2 s after the last. */
const REFRESH_TOKEN_TTL_S = 4;

const DIST_DIR = process.env.NEXT_DIST_DIR || '.next';
const RESULTS = path.join(ROOT, 'bench', 'results', 'latest.json');

/** Everything started, stopped in reverse order whatever happens. */
const cleanups: Array<() => Promise<unknown>> = [];
async function stopAll() {
  while (cleanups.length) {
    await cleanups.pop()!().catch((error: unknown) => console.error('bench: cleanup:', (error as Error).message));
  }
}

function ensureBuild() {
  if (existsSync(path.join(ROOT, DIST_DIR, 'BUILD_ID'))) return;
  console.log(`bench: no production build in ${DIST_DIR}/, running npm run build…`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', env: process.env });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
}

interface Upstream {
  url: string;
  process: ChildProcess;
}

async function startBenchUpstream(): Promise<Upstream> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'upstream.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  track(child);
  cleanups.push(() => terminate(child, 'SIGTERM', 3_000));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench upstream did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`bench upstream exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return { url: `http://127.0.0.1:${port}`, process: child };
}

async function startIdpTracked(options: Parameters<typeof startIdp>[0]): Promise<Idp> {
  const idp = await startIdp(options);
  cleanups.push(() => idp.close());
  return idp;
}

async function startGatehouse(env: Record<string, string>, port: number): Promise<App> {
  const app = await startApp({ ...env, METRICS_ADDRESS: '', LOG_LEVEL: 'warn' }, { port, timeoutMs: 60_000 });
  cleanups.push(() => app.stop());
  return app;
}

/** The Cookie header of a fresh session logged in through the real IdP. */
async function login(app: App, sub: string): Promise<string> {
  const browser = new Browser();
  await loginViaIdp(browser, app.url, { login: sub, redirect: '/api/bench', stopAfterCallback: true });
  const cookie = browser.cookieHeader(`${app.url}/api/bench`);
  if (!cookie) throw new Error(`no session cookie after logging in to ${app.url}`);
  return cookie;
}

async function expect200(url: string, headers: Record<string, string>, what: string) {
  const browser = new Browser();
  const res = await browser.get(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${what}: expected 200 from ${url}, got ${res.status}: ${body.slice(0, 300)}`);
}

interface Scenario {
  name: string;
  url: string;
  headers: Record<string, string>;
  gatehouse?: App;
  redis?: RedisServer;
}

/** CPU milliseconds spent during one measurement window, by whom. */
interface CpuSpent {
  gatehouse: number;
  upstream: number;
  redis: number;
  loadGenerator: number;
  /** All cores, every process on the machine (other people's too). */
  machine: number;
}

interface Run {
  raw: RawLoad;
  cpu: CpuSpent;
  upstreamConnections: number;
}

interface ScenarioResult extends LoadResult {
  name: string;
  runs: number;
  cpuMsPerRequest: { gatehouse: number | null; upstream: number; redis: number | null; loadGenerator: number };
  /** Average cores busy during the windows: the whole machine, and processes not started by the bench. */
  coresBusy: { machine: number; others: number };
  /** New TCP connections the upstream accepted during the runs (warm-ups included). */
  upstreamConnectionsOpened: number;
}

async function upstreamStats(upstream: Upstream): Promise<{ connections: number; requests: number }> {
  const res = await httpRequest(`${upstream.url}/__stats`);
  return (await res.json()) as { connections: number; requests: number };
}

async function measureOnce(s: Scenario, upstream: Upstream): Promise<Run> {
  const ghTree = s.gatehouse ? processTree(s.gatehouse.process.pid!) : [];
  const upTree = processTree(upstream.process.pid!);
  const redisPid = s.redis?.process?.pid;
  const snap = () => {
    const self = process.cpuUsage();
    return {
      gatehouse: cpuMs(ghTree),
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

function scenarioResult(s: Scenario, runs: Run[]): ScenarioResult {
  const load = summarize(runs.map((r) => r.raw));
  const total = (k: keyof CpuSpent) => runs.reduce((a, r) => a + r.cpu[k], 0);
  const per = (ms: number) => (load.requests ? ms / load.requests : NaN);
  const ours = total('gatehouse') + total('upstream') + total('redis') + total('loadGenerator');
  return {
    name: s.name,
    runs: runs.length,
    ...load,
    cpuMsPerRequest: {
      gatehouse: s.gatehouse ? per(total('gatehouse')) : null,
      upstream: per(total('upstream')),
      redis: s.redis ? per(total('redis')) : null,
      loadGenerator: per(total('loadGenerator')),
    },
    coresBusy: { machine: total('machine') / load.windowMs, others: Math.max(0, total('machine') - ours) / load.windowMs },
    upstreamConnectionsOpened: runs.reduce((a, r) => a + r.upstreamConnections, 0),
  };
}

const f = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

function printTable(results: ScenarioResult[]) {
  const header = ['scenario', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'GH cpu ms/req', 'upstr. cpu ms/req', 'redis cpu ms/req', 'gen. cpu ms/req', 'upstr. conns', 'cores busy', 'of which others'];
  const rows = results.map((r) => [
    r.name,
    f(r.rps, 0),
    f(r.latencyMs.p50),
    f(r.latencyMs.p90),
    f(r.latencyMs.p99),
    f(r.latencyMs.max, 1),
    String(r.errors),
    f(r.cpuMsPerRequest.gatehouse, 3),
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
}

function ratios(direct: ScenarioResult, gh: ScenarioResult) {
  return {
    throughput: gh.rps / direct.rps,
    p50: gh.latencyMs.p50 / direct.latencyMs.p50,
    p99: gh.latencyMs.p99 / direct.latencyMs.p99,
    addedP50Ms: gh.latencyMs.p50 - direct.latencyMs.p50,
    addedP99Ms: gh.latencyMs.p99 - direct.latencyMs.p99,
    gatehouseCpuMsPerRequest: gh.cpuMsPerRequest.gatehouse,
  };
}

function printRefresh(r: RefreshResult) {
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

/** Gatehouse's own warnings and errors, plus anything else that looks like one (Next, Node). */
function warnLines(app: App): string[] {
  return app.logs.filter((l) => (l.startsWith('{') ? /"level":"(warn|error)"/.test(l) : /warn|error|exception/i.test(l)));
}

async function main(): Promise<number> {
  const t0 = Date.now();
  ensureBuild();

  // --- setup -------------------------------------------------------------------------------
  const [upstream, redis, cookiePort, redisPort, replicaPorts] = await Promise.all([
    startBenchUpstream(),
    startRedis(),
    freePort(),
    freePort(),
    Promise.all([freePort(), freePort()]),
  ]);
  cleanups.push(() => redis.close());
  const appUrl = (port: number) => `http://127.0.0.1:${port}`;

  const cookieClient = demoClient(appUrl(cookiePort), 'bench-cookie');
  const redisClient = demoClient(appUrl(redisPort), 'bench-redis');
  const idp = await startIdpTracked({ clients: [cookieClient, redisClient] });

  // Refresh replicas: one client registration that accepts both replicas' callbacks.
  const [r1, r2] = replicaPorts.map(appUrl);
  const r1Client = demoClient(r1, 'bench-refresh');
  const r2Client = demoClient(r2, 'bench-refresh');
  const refreshClient: ClientSpec = {
    ...r1Client,
    redirectUris: [...r1Client.redirectUris, ...r2Client.redirectUris],
    postLogoutRedirectUris: [...r1Client.postLogoutRedirectUris, ...r2Client.postLogoutRedirectUris],
  };
  const refreshIdp = await startIdpTracked({ clients: [refreshClient], accessTokenTtlSeconds: REFRESH_TOKEN_TTL_S });
  const sharedSecret = testSecret();

  const [ghCookie, ghRedis, ...replicas] = await Promise.all([
    startGatehouse(baseAppEnv({ appUrl: appUrl(cookiePort), idp, client: cookieClient, upstream }), cookiePort),
    startGatehouse(baseAppEnv({ appUrl: appUrl(redisPort), idp, client: redisClient, upstream, redis }), redisPort),
    ...replicaPorts.map((port) =>
      startGatehouse(
        {
          ...baseAppEnv({ appUrl: appUrl(port), idp: refreshIdp, client: refreshClient, upstream, redis, sessionSecret: sharedSecret }),
          // Larger than the token lifetime: every token is due as soon as its cooldown ends.
          SESSION_REFRESH_BEFORE: '30s',
        },
        port,
      ),
    ),
  ]);
  for (const app of [ghCookie, ghRedis]) {
    // tsx's own process and the node process it starts both have server.ts on their command line;
    // the server is the innermost. CPU is summed over the whole tree anyway.
    const tree = processTree(app.process.pid!);
    const server = tree.filter((pid) => cmdline(pid).includes('server.ts')).at(-1);
    console.log(`bench: Gatehouse ${app.url}: server pid ${server ?? '?'} (process tree ${tree.join(', ')})`);
  }
  console.log(`bench: setup done in ${((Date.now() - t0) / 1000).toFixed(1)} s; build ${DIST_DIR}/; ${os.cpus().length} CPUs, Node ${process.version}`);

  const directToken = `Bearer ${randomBytes(32).toString('base64url')}`;
  const cookieSession = await login(ghCookie, 'bench-cookie-user');
  const redisSession = await login(ghRedis, 'bench-redis-user');
  const ghHeaders = (cookie: string) => ({ ...FETCH_HEADERS, cookie });
  await expect200(`${upstream.url}/bench`, { ...FETCH_HEADERS, authorization: directToken }, 'direct');
  await expect200(`${ghCookie.url}/api/bench`, ghHeaders(cookieSession), 'gatehouse cookie store');
  await expect200(`${ghRedis.url}/api/bench`, ghHeaders(redisSession), 'gatehouse redis store');

  // --- throughput and latency ------------------------------------------------------------------
  console.log(`bench: ${CONNECTIONS} connections; per scenario ${ROUNDS} interleaved runs of ${WARMUP_MS} ms warm-up + ${DURATION_MS / ROUNDS} ms\n`);
  const scenarios: Scenario[] = [
    { name: 'direct', url: `${upstream.url}/bench`, headers: { ...FETCH_HEADERS, authorization: directToken } },
    { name: 'gatehouse cookie', url: `${ghCookie.url}/api/bench`, headers: ghHeaders(cookieSession), gatehouse: ghCookie },
    { name: 'gatehouse redis', url: `${ghRedis.url}/api/bench`, headers: ghHeaders(redisSession), gatehouse: ghRedis, redis },
  ];
  // Interleaved rounds: background load on a shared machine drifts, and each scenario should see
  // the same drift.
  const runs = new Map<Scenario, Run[]>(scenarios.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of scenarios) runs.get(s)!.push(await measureOnce(s, upstream));
  }
  const results = scenarios.map((s) => scenarioResult(s, runs.get(s)!));
  printTable(results);
  console.log(`(${os.cpus().length} cores shared by the load generator, the upstream, Gatehouse and Redis; "others" = CPU of processes the bench did not start)`);
  const [direct, cookie, viaRedis] = results;
  const ratioTable = { cookie: ratios(direct, cookie), redis: ratios(direct, viaRedis) };
  console.log('\nGatehouse / direct:');
  for (const [name, r] of Object.entries(ratioTable)) {
    console.log(
      `  ${name.padEnd(6)} throughput x${f(r.throughput)}  p50 x${f(r.p50)} (+${f(r.addedP50Ms)} ms)  p99 x${f(r.p99)} (+${f(r.addedP99Ms)} ms)  CPU ${f(r.gatehouseCpuMsPerRequest, 3)} ms/request`,
    );
  }

  // --- latency without queueing: one connection ---------------------------------------------
  // Under the closed loop above, something saturates (a Gatehouse event loop, or the generator
  // itself for the direct call) and latency is mostly queueing. One request at a time shows what
  // a request costs on its own.
  const single = [];
  for (const s of scenarios) {
    single.push({ name: s.name, ...summarize([await runLoad({ url: s.url, headers: s.headers, connections: 1, warmupMs: 500, durationMs: SINGLE_MS })]) });
  }
  console.log(`\nOne connection, ${SINGLE_MS} ms each (latency without queueing):`);
  for (const r of single) {
    const added = r.latencyMs.p50 - single[0].latencyMs.p50;
    console.log(
      `  ${r.name.padEnd(17)} ${f(r.rps, 0).padStart(6)} req/s  p50 ${f(r.latencyMs.p50, 3)} ms  p99 ${f(r.latencyMs.p99, 3)} ms  errors ${r.errors}` +
        (r === single[0] ? '' : `  (+${f(added, 3)} ms p50 over direct)`),
    );
  }

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

  const warnings = Object.fromEntries(
    [['gatehouse cookie', ghCookie], ['gatehouse redis', ghRedis], ['replica 1', replicas[0]], ['replica 2', replicas[1]]].map(([n, a]) => [n as string, warnLines(a as App)]),
  );
  for (const [name, lines] of Object.entries(warnings)) {
    if (lines.length) console.log(`\n${name}: ${lines.length} warning/error log lines, first: ${lines.slice(0, 3).join('\n  ')}`);
  }

  const elapsedS = (Date.now() - t0) / 1000;
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, distDir: DIST_DIR },
        load: { connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: DURATION_MS, rounds: ROUNDS },
        scenarios: results,
        ratios: ratioTable,
        singleConnection: single,
        refresh,
        gatehouseWarnings: warnings,
        elapsedSeconds: elapsedS,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nbench: wrote ${path.relative(ROOT, RESULTS)} (${elapsedS.toFixed(1)} s)`);
  return 0;
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
