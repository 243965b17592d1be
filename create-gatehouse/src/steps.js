// The two optional steps after writing the files: `npm install` (its failure undoes the whole
// scaffold) and a git repository with a first commit (an extra: trouble there is a warning).

import { spawn } from 'node:child_process';

/** Variables that describe the `npm exec`/`npx` call that started us, not the install we run. */
const OUTER_NPM = /^npm_(config_(package|call|yes)|lifecycle_|package_|command$)/i;

function childEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (OUTER_NPM.test(key)) delete env[key];
  return env;
}

/** Runs a command; resolves with its exit code (or -1 when it could not start) and its output. */
export function run(command, args, { cwd, inherit = false, onChild } = {}) {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(command, args, {
        cwd,
        env: childEnv(),
        stdio: inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
        shell: process.platform === 'win32',
      });
    } catch (error) {
      resolve({ code: -1, output: error.message });
      return;
    }
    onChild?.(child);
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.once('error', (error) => resolve({ code: -1, output: `${output}${error.message}` }));
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal, output }));
  });
}

/** `npm install` in the new project; throws with npm's last lines when it fails. */
export async function npmInstall(dir, onChild) {
  const { code, output } = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, inherit: true, onChild });
  if (code !== 0) {
    throw new Error(`npm install failed (exit code ${code})${output ? `:\n${output.trim().split('\n').slice(-10).join('\n')}` : ''}`);
  }
}

/**
 * `git init` and a first commit of everything written. Returns a warning when git is missing or
 * the commit could not be made (no user.name/user.email): the project is fine without it.
 */
export async function gitInit(dir, message) {
  const init = await run('git', ['init', '-q'], { cwd: dir });
  if (init.code !== 0) return `git init did not work (${init.output.trim() || `exit code ${init.code}`}); the project has no git repository`;
  const add = await run('git', ['add', '-A'], { cwd: dir });
  if (add.code !== 0) return `git add did not work: ${add.output.trim()}`;
  const commit = await run('git', ['commit', '-q', '-m', message], { cwd: dir });
  if (commit.code !== 0) return `git commit did not work (${commit.output.trim().split('\n')[0]}); the files are staged, commit them yourself`;
  return undefined;
}
