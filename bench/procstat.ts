// CPU time of processes from /proc (Linux only), for "CPU milliseconds per request", and their
// resident memory for the soak.
//
// Gatehouse runs as one node process (`node dist/server.js`); the benchmark sums the whole process
// tree under the pid it spawned anyway, so a wrapper (a TypeScript loader, a shell) cannot hide work.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux almost everywhere). */
export function clockTicks(): number {
  if (ticks === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticks = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticks;
}

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** Fields after `comm`, which is parenthesised and may contain spaces or parentheses itself. */
function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] = state (field 3), so field n is rest[n - 3]: ppid 4, utime 14, stime 15.
  return { pid, ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** `root` and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    if (!stats.some((s) => s.pid === pid)) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The command line of `pid` (NUL-separated arguments joined by spaces), '' when gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** User + system CPU of these processes, in milliseconds (processes that exited count 0). */
export function cpuMs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readStat(pid)?.cpuTicks ?? 0;
  return (total * 1000) / clockTicks();
}

/** Machine-wide busy and total CPU time (all cores) from /proc/stat, in clock ticks. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest fields are already in user/nice).
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Resident set size of these processes (VmRSS from /proc/<pid>/status), in MiB; exited ones count 0. */
export function rssMiB(pids: readonly number[]): number {
  let kB = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kB += m ? Number(m[1]) : 0;
    } catch {
      /* exited */
    }
  }
  return kB / 1024;
}
