// The app's own node process, for suites that measure what a request costs it (CPU) or leaves
// behind (memory). The harness spawns `tsx server.ts`: tsx is a wrapper node process that spawns
// the node process actually serving requests, so its pid would measure an idle wrapper. Linux only
// (/proc), like bench/procstat.ts whose readers this reuses.

import { readFileSync, readdirSync } from 'node:fs';
import { cpuMs } from '../../bench/procstat';
import type { App } from '../harness/app';

/** Children of `pid`, from /proc/<pid>/task/<tid>/children (the kernel's own list). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** The pid of the node process that serves the app's requests (the one child of the tsx wrapper). */
export function servingPid(app: App): number {
  const wrapper = app.process.pid;
  if (wrapper === undefined) throw new Error('the app has no pid');
  const children = childrenOf(wrapper);
  if (children.length !== 1) throw new Error(`expected one child process of tsx (${wrapper}), found ${JSON.stringify(children)}`);
  return children[0];
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
