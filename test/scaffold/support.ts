// The scaffold as a user gets it: `npm pack` of create-gatehouse/ (its prepack copies the
// repository into the template), then the tarball run through `npm exec --package=<tarball>`,
// which is what `npx create-gatehouse` and `npm create gatehouse` do with the published package.
//
// npm reads its cache first (`prefer-offline`): the template's dependencies and @clack/prompts
// are in the cache after the repository's own `npm ci`, so no test waits on the registry.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
// CommonJS: its functions are on the default export.
import nextEnv from '@next/env';
import { ROOT } from '../harness/app';
import { track } from '../harness/processes';
import { eventually } from '../harness/wait';

const execFileP = promisify(execFile);
export const PACKAGE_DIR = path.join(ROOT, 'create-gatehouse');

/** npm settings for every npm the tests start (and the npm the scaffold starts inside). */
export const NPM_ENV: Record<string, string> = {
  npm_config_prefer_offline: 'true',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  NEXT_TELEMETRY_DISABLED: '1',
};

/** Our environment without what `node --import tsx --test` adds (a child node would load tsx and
 *  speak the test runner's protocol) and without a developer's Gatehouse settings. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  for (const key of Object.keys(env)) {
    if (/^(OIDC_|SESSION_|REDIS_|UPSTREAM|AUTO_LOGIN|ERROR_PATH|COOKIE_PREFIX|SSO_|SHUTDOWN_|INGRESS$|LOG_LEVEL$|LOG_FORMAT$|NEXT_DIST_DIR$|PORT$|DEV_)/.test(key)) delete env[key];
  }
  return { ...env, ...NPM_ENV, ...extra };
}

/** A fresh temporary directory, removed by the caller (`rmSync(dir, { recursive: true })`). */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `gatehouse-${prefix}-`));
}

/**
 * Runs `fn` while holding the package directory: prepack writes create-gatehouse/template/ and
 * postpack removes it, so two packs (test files run in parallel) must not overlap. The lock is a
 * directory (mkdir is atomic); a lock left by a dead process is taken over.
 */
async function withPackageLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `gatehouse-scaffold-pack-${Buffer.from(PACKAGE_DIR).toString('base64url').slice(-40)}.lock`);
  const owner = path.join(lock, 'pid');
  await eventually('the create-gatehouse pack lock', 240_000, () => {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      const pid = Number(existsSync(owner) ? readFileSync(owner, 'utf8') : NaN);
      if (Number.isInteger(pid) && !alive(pid)) rmSync(lock, { recursive: true, force: true });
      return false;
    }
  }, { maxDelayMs: 500 });
  try {
    await import('node:fs/promises').then((fs) => fs.writeFile(owner, String(process.pid)));
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Packed {
  tarball: string;
  /** What npm reported packing: file paths inside the package. */
  files: string[];
}

/** `npm pack` into `into`; resolves with the tarball path and its file list. */
export function packScaffold(into: string): Promise<Packed> {
  return withPackageLock(async () => {
    const { stdout } = await execFileP('npm', ['pack', '--json', '--pack-destination', into], {
      cwd: PACKAGE_DIR,
      env: cleanEnv(),
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    // prepack/postpack print their command lines before the JSON.
    const report = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    return { tarball: path.join(into, report[0].filename), files: report[0].files.map((f) => f.path) };
  });
}

/** `npm publish --dry-run` of the package: what would be published, without publishing. */
export function publishDryRun(): Promise<{ stdout: string; stderr: string }> {
  return withPackageLock(() =>
    execFileP('npm', ['publish', '--dry-run'], { cwd: PACKAGE_DIR, env: cleanEnv(), timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }),
  );
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ScaffoldOptions {
  cwd: string;
  /** Variables for the scaffold (and the npm and git it starts). */
  env?: Record<string, string>;
  /** Directories put first on PATH, e.g. one with a failing `npm`. */
  pathPrefix?: string[];
  timeoutMs?: number;
}

/** Absolute path of npm, found once: a PATH with a stand-in `npm` first must still start ours. */
const NPM = (() => {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (dir && existsSync(candidate)) return candidate;
  }
  return 'npm';
})();

/** The command line of `npm exec --package=<tarball> -- create-gatehouse <args>`. */
export function scaffoldCommand(tarball: string, args: string[]): [string, string[]] {
  return [NPM, ['exec', '--yes', `--package=${tarball}`, '--', 'create-gatehouse', ...args]];
}

export function spawnScaffold(tarball: string, args: string[], options: ScaffoldOptions): ChildProcess {
  const env = cleanEnv(options.env);
  if (options.pathPrefix) env.PATH = [...options.pathPrefix, env.PATH].join(path.delimiter);
  const [command, commandArgs] = scaffoldCommand(tarball, args);
  const child = spawn(command, commandArgs, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(child);
  return child;
}

/** Runs the scaffold to its end. */
export function runScaffold(tarball: string, args: string[], options: ScaffoldOptions): Promise<Run> {
  const child = spawnScaffold(tarball, args, options);
  return collect(child, options.timeoutMs ?? 120_000, `create-gatehouse ${args.join(' ')}`);
}

/** Output and exit of a child; kills its process group after `timeoutMs`. */
export function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`${what} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Every file under `dir`, relative, sorted (directories not listed). */
export function listFiles(dir: string, skip: RegExp = /^node_modules$|^\.git$|^\.next/): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (skip.test(entry.name)) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** `.env.local` as Next.js reads it (the same dotenv parser and `$` expansion). */
export async function readEnvFile(dir: string): Promise<Record<string, string>> {
  const { processEnv } = nextEnv;
  const contents = readFileSync(path.join(dir, '.env.local'), 'utf8');
  // processEnv writes into process.env: hand it a copy and restore ours.
  const saved = { ...process.env };
  try {
    const [, parsed] = processEnv([{ path: '.env.local', contents, env: {} }], dir, { info() {}, error() {} }, true);
    return { ...(parsed as Record<string, string>) };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
