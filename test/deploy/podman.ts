// Podman as it works on these machines (PITFALLS "Containers on these machines"): as root, with
// runc (crun fails on this host's cgroup setup and on raising rlimits), the cgroupfs manager, no
// default ulimits (a containers.conf passed through CONTAINERS_CONF), host networking.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the container tests cannot run here, or undefined when they can. Only a missing container
 *  runtime is a reason; everything after that (the base image, the build) must work or fail. */
export function whyNoContainerRuntime(): string | undefined {
  if (!onPath('podman')) return 'podman is not installed (apt-get install -y podman runc debootstrap; .ci/run does)';
  if (!RUNC) return 'runc is not installed (apt-get install -y runc; crun does not work on these machines)';
  return undefined;
}

let confFile: string | undefined;
function containersConf(): string {
  if (!confFile) {
    confFile = path.join(os.tmpdir(), 'gatehouse-test-containers.conf');
    writeFileSync(confFile, '[containers]\ndefault_ulimits = []\n');
  }
  return confFile;
}

export function podmanEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF: containersConf() };
}

/** The global flags every podman call needs here. */
export function podmanArgs(args: string[]): string[] {
  return ['--runtime', RUNC!, '--cgroup-manager', 'cgroupfs', ...args];
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs podman; resolves with its exit code and output (a non-zero exit is not an error here). */
export function podmanRun(args: string[], timeoutMs = 60_000): Promise<PodmanResult> {
  return new Promise((resolve, reject) => {
    execFile('podman', podmanArgs(args), { env: podmanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(`podman ${args.join(' ')}: ${error.message}\n${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Runs podman and returns its stdout; throws with stderr on a non-zero exit. */
export async function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await podmanRun(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

/** Synchronous forced removal, for a process 'exit' hook (a crashed test must not leave a
 *  container holding host ports). */
export function removeContainerSync(name: string): void {
  try {
    execFileSync('podman', podmanArgs(['rm', '--force', '--time', '0', name]), { env: podmanEnv(), stdio: 'ignore', timeout: 30_000 });
  } catch {
    /* already gone */
  }
}
