// Making the image under test: the local base (scripts/make-base-image.sh, cached by its tag), then
// the project's Dockerfile on top of it, as a user without a registry would build it.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../harness/app';
import { podmanArgs, podmanEnv } from './podman';

export const IMAGE_TAG = 'localhost/gatehouse:test';

function run(command: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: ROOT, env: podmanEnv(), timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.message}):\n${(stdout + stderr).slice(-6000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The local stand-in for node:<version>-slim; seconds when it exists, about a minute when not. */
export async function ensureBaseImage(): Promise<{ tag: string; ms: number }> {
  const t0 = performance.now();
  const { stdout } = await run(path.join(ROOT, 'scripts', 'make-base-image.sh'), [], 300_000);
  return { tag: stdout.trim().split('\n').pop()!, ms: performance.now() - t0 };
}

/** The commit being built, for the revision label ("unknown" outside a git checkout). */
export function revision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** `podman build` of the Dockerfile (host network: `npm ci` needs the registry). Resolves with the
 *  image id and how long the build took. */
export async function buildImage(baseImage: string): Promise<{ id: string; ms: number; output: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-build-'));
  const iidfile = path.join(dir, 'iid');
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const t0 = performance.now();
  try {
    const { stdout, stderr } = await run(
      'podman',
      podmanArgs([
        'build',
        '--network', 'host',
        // HEALTHCHECK is a Docker image-format field; the OCI format would drop it.
        '--format', 'docker',
        '--build-arg', `BASE_IMAGE=${baseImage}`,
        '--build-arg', `VERSION=${version}`,
        '--build-arg', `REVISION=${revision()}`,
        '--iidfile', iidfile,
        '--tag', IMAGE_TAG,
        '--file', path.join(ROOT, 'Dockerfile'),
        ROOT,
      ]),
      600_000,
    );
    const id = readFileSync(iidfile, 'utf8').trim().replace(/^sha256:/, '');
    return { id, ms: performance.now() - t0, output: stdout + stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
