// Starts Gatehouse the way a user runs it in production — `npm start` is
// `NODE_ENV=production node dist/server.js` over a `npm run build` output — as a child process, so
// tests see the real server: the production build, its proxy.ts, its env parsing and its exit codes.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports';
import { exited, terminate, track } from './processes';
import { WaitTimeoutError, eventually } from './wait';

/** Project root (this file is test/harness/app.ts). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StartAppOptions {
  /** Listen port; default: env.PORT if given, else a free port. Pick it first when the IdP client
   *  registration (redirect URIs) must contain it. */
  port?: number;
  /** Ready timeout (GET /oauth2/ping answering `pong`). Default 30 s. */
  timeoutMs?: number;
  /** A copy of the project to run instead of this checkout (its dist/server.js and build). */
  root?: string;
  /** Script to run instead of server.ts (relative to the project root). For the harness's own
   *  self-test; app tests leave it alone. */
  entry?: string;
}

export interface App {
  url: string;
  port: number;
  /** stdout and stderr, line by line, as they arrive. */
  logs: string[];
  /** The server's node process (dist/server.js): `app.process.kill('SIGTERM')` starts its drain and
   *  `exited(app.process)` (processes.ts) resolves with its exit status. */
  process: ChildProcess;
  /** Parsed JSON log lines (non-JSON lines skipped). */
  jsonLogs(): Array<Record<string, unknown>>;
  /** Resolves with the first log line matching `pattern` (already logged or future). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** The child's environment: ours minus what would change how the child runs, plus the production
 *  defaults `npm start` implies, plus the test's variables (which win). */
function childEnv(port: number, env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  // NODE_OPTIONS carries `--import tsx` (and test-runner flags) from `node --import tsx --test`;
  // NODE_TEST_CONTEXT would make a node child talk the test runner's protocol on stdout.
  delete base.NODE_OPTIONS;
  delete base.NODE_TEST_CONTEXT;
  // Don't let a developer's shell config (or a dev-stack variable) leak into a test's app.
  for (const key of Object.keys(base)) {
    if (/^(OIDC_|SESSION_|REDIS_|UPSTREAM|AUTO_LOGIN|ERROR_PATH|COOKIE_PREFIX|SSO_|SHUTDOWN_|INGRESS$|LOG_LEVEL$|LOG_FORMAT$)/.test(key)) {
      delete base[key];
    }
  }
  return {
    ...base,
    NODE_ENV: 'production',
    PORT: String(port),
    HOSTNAME: '127.0.0.1',
    METRICS_ADDRESS: '',
    // stop() should not sit out the production drain (5 s wait, up to 20 s for open requests) in
    // every suite; test/integration/drain.test.ts sets its own.
    SHUTDOWN_WAIT: '0s',
    SHUTDOWN_GRACE: '2s',
    ...env,
  };
}

/** What `npm start` runs: the compiled server (`npm run build` writes it). */
const serverOf = (root: string) => path.join(root, 'dist', 'server.js');

function spawnApp(port: number, env: Record<string, string>, entry?: string, root = ROOT): { child: ChildProcess; logs: string[]; listeners: Set<(line: string) => void> } {
  // The real server runs as `npm start` does: node on the compiled JavaScript. A stand-in entry
  // (the harness self-test) is TypeScript and runs under tsx.
  const [command, args] = entry ? [path.join(ROOT, 'node_modules', '.bin', 'tsx'), [entry]] : [process.execPath, ['--enable-source-maps', serverOf(root)]];
  // detached: the app runs in its own process group, so a SIGKILL fallback (and the exit hook)
  // also reaches a node process tsx starts underneath.
  const child = spawn(command, args, {
    cwd: root,
    env: childEnv(port, env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  track(child);
  const logs: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        logs.push(line);
        for (const l of listeners) l(line);
      }
    });
    stream?.on('end', () => {
      if (partial) {
        logs.push(partial);
        for (const l of listeners) l(partial);
      }
      partial = '';
    });
  }
  return { child, logs, listeners };
}

function assertBuilt(root: string): void {
  if (!existsSync(path.join(root, process.env.NEXT_DIST_DIR || '.next', 'BUILD_ID')) || !existsSync(serverOf(root))) {
    throw new Error('No production build found (.next/BUILD_ID and dist/server.js). Run `npm run build` before the integration tests.');
  }
}

/** The liveness probe lives under the (first) ingress path (SPEC §3). */
function pingUrl(url: string, env: Record<string, string>): string {
  let base = '';
  try {
    if (env.INGRESS) base = new URL(env.INGRESS.split(',')[0].trim()).pathname.replace(/\/+$/, '');
  } catch {
    /* invalid INGRESS: the app will say so and exit */
  }
  return `${url}${base}/oauth2/ping`;
}

async function isReady(ping: string): Promise<boolean> {
  try {
    const res = await fetch(ping, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    return res.status === 200 && text.trim() === 'pong';
  } catch {
    return false;
  }
}

export async function startApp(env: Record<string, string> = {}, options: StartAppOptions = {}): Promise<App> {
  if (!options.entry) assertBuilt(options.root ?? ROOT);
  const port = options.port ?? (env.PORT ? Number(env.PORT) : await freePort());
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = `http://127.0.0.1:${port}`;
  const { child, logs, listeners } = spawnApp(port, env, options.entry, options.root);

  try {
    await eventually(
      `Gatehouse ready on ${url}`,
      timeoutMs,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`Gatehouse exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${logs.join('\n')}`);
        }
        return isReady(pingUrl(url, env));
      },
      { minDelayMs: 50, maxDelayMs: 500 },
    );
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    await terminate(child, 'SIGTERM', 2_000);
    throw new Error(`Gatehouse was not ready on ${url} within ${timeoutMs} ms:\n${logs.join('\n')}`);
  }

  return {
    url,
    port,
    logs,
    process: child,
    jsonLogs() {
      const out: Array<Record<string, unknown>> = [];
      for (const line of logs) {
        if (!line.startsWith('{')) continue;
        try {
          out.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not JSON */
        }
      }
      return out;
    },
    waitForLog(pattern: RegExp, waitMs = 5_000) {
      const found = logs.find((l) => pattern.test(l));
      if (found) return Promise.resolve(found);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no log line matching ${pattern} within ${waitMs} ms:\n${logs.slice(-50).join('\n')}`));
        }, waitMs);
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
      });
    },
    stop: () => terminate(child, 'SIGTERM', 10_000),
  };
}

/** For configuration-error tests: start the app with `env` and expect it to exit on its own.
 *  Resolves with its exit code and combined output; rejects if it is still running after `timeoutMs`
 *  (it is killed then). */
export async function startAppExpectingFailure(
  env: Record<string, string>,
  options: StartAppOptions = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const port = options.port ?? (env.PORT ? Number(env.PORT) : await freePort());
  const timeoutMs = options.timeoutMs ?? 20_000;
  const { child, logs } = spawnApp(port, env, options.entry, options.root);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    exited(child),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await terminate(child, 'SIGTERM', 2_000);
    throw new Error(`Gatehouse did not exit within ${timeoutMs} ms (expected a startup failure):\n${logs.join('\n')}`);
  }
  // Let the stdout/stderr pipes drain: 'exit' can fire before the last chunks are read.
  await Promise.all(
    [child.stdout, child.stderr].map((s) => (s && !s.readableEnded ? new Promise((r) => s.once('close', r)) : undefined)),
  );
  return { code: result.code, signal: result.signal, output: logs.join('\n') };
}
