// The app's own node process, for suites that measure what a request costs it (CPU) or leaves
// behind (memory). Linux only (/proc), like bench/procstat.ts whose readers this reuses.

import { readFileSync } from 'node:fs';
import { cpuMs } from '../../bench/procstat';
import type { App } from '../harness/app';

/** The pid of the node process that serves the app's requests: the harness runs it directly. */
export function servingPid(app: App): number {
  if (app.process.pid === undefined) throw new Error('the app has no pid');
  return app.process.pid;
}

/** User + system CPU time the process has used, in milliseconds (10 ms resolution on Linux). */
export const processCpuMs = (pid: number): number => cpuMs([pid]);

/** Resident set size (VmRSS) of the process, in bytes. */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for ${pid}`);
  return Number(/(\d+)\s*kB/.exec(line)![1]) * 1024;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
