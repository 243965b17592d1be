// Everything the bench measures against, started with real parts and stopped again: the bench
// upstream and the Node ceiling (bench/ceiling.ts) each in its own process, redis-server, two dev
// IdPs, the Gatehouse servers (cookie store, Redis store, two refresh replicas sharing Redis),
// logged-in sessions, and the four throughput scenarios built from them. Every start registers
// its stop, so `stopAll()` undoes a partial setup.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
import { CEILING_COOKIE, ceilingSessionKey, seal, sessionJson } from './ceiling-session';
import { DIST_DIR, REFRESH_TOKEN_TTL_S, TRACING } from './knobs';
import { cmdline, processTree } from './procstat';

/** Everything started, stopped in reverse order whatever happens. */
const cleanups: Array<() => Promise<unknown>> = [];

/** Stops everything started so far, last first; a failing stop is logged and the rest still run. */
export async function stopAll() {
  while (cleanups.length) {
    await cleanups.pop()!().catch((error: unknown) => console.error('bench: cleanup:', (error as Error).message));
  }
}

/** Builds into NEXT_DIST_DIR when it holds no production build yet. */
export function ensureBuild() {
  if (existsSync(path.join(ROOT, DIST_DIR, 'BUILD_ID')) && existsSync(path.join(ROOT, 'dist', 'server.js'))) return;
  console.log(`bench: no production build in ${DIST_DIR}/, running npm run build…`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', env: process.env });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
}

/** A bench-owned helper process (the upstream, the Node ceiling). */
export interface BenchProcess {
  url: string;
  process: ChildProcess;
}
export type Upstream = BenchProcess;

/**
 * Starts `bench/<script>` in its own process, with `preload` (bench modules) imported first, and
 * waits for the {"port"} line it prints when ready.
 */
async function startBenchProcess(script: string, env: Record<string, string> = {}, preload: string[] = []): Promise<BenchProcess> {
  const imports = preload.flatMap((module) => ['--import', path.join(ROOT, 'bench', module)]);
  const child = spawn(process.execPath, ['--import', 'tsx', ...imports, path.join(ROOT, 'bench', script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  track(child);
  cleanups.push(() => terminate(child, 'SIGTERM', 3_000));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench/${script} did not start within 15 s`)), 15_000);
    child.once('exit', (code) => reject(new Error(`bench/${script} exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return { url: `http://127.0.0.1:${port}`, process: child };
}

/**
 * The Node ceiling with one sealed session in `redis`: its URL and the Cookie header that selects
 * it. `preload`: bench modules the ceiling process imports first (bench/next-environment.ts).
 */
async function startCeiling(upstream: Upstream, redis: RedisServer, accessToken: string, preload: string[] = []): Promise<{ ceiling: BenchProcess; cookie: string }> {
  const key = randomBytes(32);
  const id = randomBytes(16).toString('base64url');
  await redis.client().set(ceilingSessionKey(id), seal(key, sessionJson(id, accessToken)));
  const ceiling = await startBenchProcess('ceiling.ts', {
    CEILING_UPSTREAM: upstream.url,
    CEILING_REDIS_PORT: String(redis.port),
    CEILING_KEY: key.toString('base64url'),
    // Next's production build, as Gatehouse runs it (bench/next-environment.ts).
    NODE_ENV: 'production',
  }, preload);
  return { ceiling, cookie: `${CEILING_COOKIE}=${id}` };
}

/** Checks that `url` reaches the upstream's /whoami carrying exactly `Bearer <accessToken>`. */
async function expectToken(url: string, headers: Record<string, string>, accessToken: string, what: string) {
  const res = await httpRequest(url, { headers });
  const body = await res.text();
  const want = createHash('sha256').update(`Bearer ${accessToken}`).digest('base64url').slice(0, 16);
  if (res.status !== 200 || (JSON.parse(body) as { token?: string }).token !== want) {
    throw new Error(`${what}: the upstream did not receive the session's token from ${url} (${res.status}: ${body.slice(0, 300)})`);
  }
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

/** One thing to load: a URL with the headers that make it answer 200, and whose CPU to count. */
export interface Scenario {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The proxy in front of the upstream (a Gatehouse, the Node ceiling); none for the direct call. */
  proxy?: { process: ChildProcess };
  redis?: RedisServer;
  /** The OTLP sink the proxy exports its spans to (the tracing scenario). */
  sink?: BenchProcess;
}

/** The five throughput scenarios, by role. */
export interface Scenarios {
  direct: Scenario;
  ceiling: Scenario;
  /** The same ceiling with Next.js loaded in its process (bench/next-environment.ts). */
  ceilingInNext: Scenario;
  cookie: Scenario;
  redis: Scenario;
  /** BENCH_TRACING=1: the Redis store with traces exported (every request sampled) to a local OTLP sink. */
  tracing?: Scenario;
}

export interface BenchStack {
  upstream: Upstream;
  /** Gatehouse with the cookie store, and with the Redis store. */
  ghCookie: App;
  ghRedis: App;
  /** Two replicas sharing Redis and SESSION_SECRET, behind `refreshIdp`, for the refresh check. */
  replicas: App[];
  refreshIdp: Idp;
  /** Each checked to answer 200 (and the ceiling to forward its session's token). */
  scenarios: Scenarios;
}

/** Starts the stack, logs in one session per store, and checks every scenario answers 200. */
export async function setUpBench(t0: number): Promise<BenchStack> {
  const [upstream, redis, cookiePort, redisPort, replicaPorts] = await Promise.all([
    startBenchProcess('upstream.ts'),
    startRedis(),
    freePort(),
    freePort(),
    Promise.all([freePort(), freePort()]),
  ]);
  cleanups.push(() => redis.close());
  const appUrl = (port: number) => `http://127.0.0.1:${port}`;

  const cookieClient = demoClient(appUrl(cookiePort), 'bench-cookie');
  const redisClient = demoClient(appUrl(redisPort), 'bench-redis');
  const tracingPort = TRACING ? await freePort() : 0;
  const tracingClient = demoClient(appUrl(tracingPort), 'bench-tracing');
  const idp = await startIdpTracked({ clients: TRACING ? [cookieClient, redisClient, tracingClient] : [cookieClient, redisClient] });

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
    // The server is the innermost process running dist/server.js. CPU is summed over the whole tree anyway.
    const tree = processTree(app.process.pid!);
    const server = tree.filter((pid) => cmdline(pid).includes('server.js')).at(-1);
    console.log(`bench: Gatehouse ${app.url}: server pid ${server ?? '?'} (process tree ${tree.join(', ')})`);
  }
  console.log(`bench: setup done in ${((Date.now() - t0) / 1000).toFixed(1)} s; build ${DIST_DIR}/; ${os.cpus().length} CPUs, Node ${process.version}`);

  const directToken = `Bearer ${randomBytes(32).toString('base64url')}`;
  const cookieSession = await login(ghCookie, 'bench-cookie-user');
  const redisSession = await login(ghRedis, 'bench-redis-user');
  const ceilingToken = randomBytes(32).toString('base64url');
  const { ceiling, cookie: ceilingCookie } = await startCeiling(upstream, redis, ceilingToken);
  const { ceiling: ceilingInNext, cookie: ceilingInNextCookie } = await startCeiling(upstream, redis, ceilingToken, ['next-environment.ts']);
  const ghHeaders = (cookie: string) => ({ ...FETCH_HEADERS, cookie });
  await expect200(`${upstream.url}/bench`, { ...FETCH_HEADERS, authorization: directToken }, 'direct');
  await expectToken(`${ceiling.url}/whoami`, ghHeaders(ceilingCookie), ceilingToken, 'node ceiling');
  await expectToken(`${ceilingInNext.url}/whoami`, ghHeaders(ceilingInNextCookie), ceilingToken, 'node ceiling in Next');
  await expect200(`${ghCookie.url}/api/bench`, ghHeaders(cookieSession), 'gatehouse cookie store');
  await expect200(`${ghRedis.url}/api/bench`, ghHeaders(redisSession), 'gatehouse redis store');

  const tracing = TRACING ? await tracingScenario(appUrl(tracingPort), tracingPort, idp, tracingClient, upstream, redis) : undefined;
  const scenarios: Scenarios = {
    direct: { name: 'direct', url: `${upstream.url}/bench`, headers: { ...FETCH_HEADERS, authorization: directToken } },
    ceiling: { name: 'node ceiling', url: `${ceiling.url}/bench`, headers: ghHeaders(ceilingCookie), proxy: ceiling, redis },
    ceilingInNext: { name: 'ceiling in Next', url: `${ceilingInNext.url}/bench`, headers: ghHeaders(ceilingInNextCookie), proxy: ceilingInNext, redis },
    cookie: { name: 'gatehouse cookie', url: `${ghCookie.url}/api/bench`, headers: ghHeaders(cookieSession), proxy: ghCookie },
    redis: { name: 'gatehouse redis', url: `${ghRedis.url}/api/bench`, headers: ghHeaders(redisSession), proxy: ghRedis, redis },
    ...(tracing ? { tracing } : {}),
  };
  return { upstream, ghCookie, ghRedis, replicas, refreshIdp, scenarios };
}

/**
 * BENCH_TRACING=1: a third Gatehouse like the Redis one, with tracing on. Every request is sampled
 * (the default sampler with no incoming traceparent) and exported in batches to bench/otlp-sink.ts.
 */
async function tracingScenario(url: string, port: number, idp: Idp, client: ClientSpec, upstream: Upstream, redis: RedisServer): Promise<Scenario> {
  const sink = await startBenchProcess('otlp-sink.ts');
  const app = await startGatehouse({ ...baseAppEnv({ appUrl: url, idp, client, upstream, redis }), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }, port);
  const headers = { ...FETCH_HEADERS, cookie: await login(app, 'bench-tracing-user') };
  await expect200(`${app.url}/api/bench`, headers, 'gatehouse redis, tracing on');
  return { name: 'gatehouse redis tracing', url: `${app.url}/api/bench`, headers, proxy: app, redis, sink };
}
