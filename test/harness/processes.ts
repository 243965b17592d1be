// Bookkeeping for child processes the harness spawns (redis-server, the app), so that a test that
// crashes or forgets to stop one does not leave it running after the test process exits: an orphan
// redis-server or Next server would keep ports and, under `node --test`, CPU.

import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    try {
      // Children are spawned detached (own process group): kill the group so tsx's inner node
      // process dies with it. SIGCONT first in case it was frozen with SIGSTOP.
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGCONT');
        } catch {
          /* already gone */
        }
        process.kill(-child.pid, 'SIGKILL');
      }
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!hooked) {
    hooked = true;
    // 'exit' handlers must be synchronous: process.kill is.
    process.once('exit', killAll);
  }
}

/** Resolves with the exit code (or signal) once `child` has exited; immediately if it already has. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Signal `child`, wait up to `graceMs` for it to exit, then SIGKILL its whole process group. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  try {
    child.kill(signal);
  } catch {
    /* already gone */
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut && child.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await done;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
