// redis-server processes for the harness: how one is spawned (also by the throwaway Redis in
// redis.ts), and the nodes of a multi-node topology (Sentinel, Cluster): each on a free port,
// persistence off, in a temp dir owned by the topology, answering PING before it is handed out.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { terminate, track } from './processes';
import { redisCommand, type RespAccess, type RespValue } from './resp';
import { eventually } from './wait';

export const HOST = '127.0.0.1';

export interface RedisNode {
  host: string;
  port: number;
  /** `host:port` */
  address: string;
  /** `redis://` or, with TLS, `rediss://`; never with credentials. */
  url: string;
  /** How the harness reaches it (password, CA). */
  access: RespAccess;
  process: ChildProcess;
  /** Output of the process, for failure messages. */
  logs: string[];
  /** One command against this node (see redisCommand). */
  command(...args: Array<string | number>): Promise<RespValue>;
}

function redisServerBinary(): string {
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

/**
 * Starts redis-server with `args`, its output appended line by line to `logs`. Detached: its own
 * process group, so the exit hook in processes.ts can kill it as a group. `spawnError()` is the
 * error the spawn itself failed with (no binary), if any.
 */
export function spawnRedisServer(args: string[], logs: string[], cwd?: string): { child: ChildProcess; spawnError(): Error | undefined } {
  const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd });
  track(child);
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => logs.push(...chunk.split('\n').filter(Boolean)));
  }
  let failed: Error | undefined;
  child.once('error', (err) => {
    failed = err;
  });
  return { child, spawnError: () => failed };
}

/** Where processes and temp dirs of one topology are recorded for close(). */
export class Owned {
  readonly children: ChildProcess[] = [];
  readonly dir: string;
  constructor(prefix: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  }
  async close(): Promise<void> {
    await Promise.allSettled(
      this.children.map(async (child) => {
        try {
          child.kill('SIGCONT'); // a frozen server cannot handle SIGTERM
        } catch {
          /* gone */
        }
        await terminate(child, 'SIGTERM', 5_000);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** redis-server arguments for a node that keeps nothing on disk. */
export const noPersistence = (dir: string) => ['--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];

/**
 * Spawns a redis-server with the arguments `buildArgs` makes for a free port, waits for PING, and
 * retries with new ports when one was taken between freePort() and the bind. `access` is how the
 * harness logs in (a node with `requirepass`) and whether it speaks TLS (a CA).
 */
export async function spawnNode(
  owned: Owned,
  label: string,
  buildArgs: (port: number) => Promise<string[]> | string[],
  readyTimeoutMs = 10_000,
  access: RespAccess = {},
): Promise<RedisNode> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = await buildArgs(port);
    const logs: string[] = [];
    const { child, spawnError } = spawnRedisServer(args, logs, owned.dir);
    owned.children.push(child);
    const node: RedisNode = {
      host: HOST,
      port,
      address: `${HOST}:${port}`,
      url: `${access.ca ? 'rediss' : 'redis'}://${HOST}:${port}`,
      access,
      process: child,
      logs,
      command: (...cmd) => redisCommand(port, cmd, 1_000, HOST, access),
    };
    try {
      await eventually(
        `${label} on ${node.address} answering PING`,
        readyTimeoutMs,
        async () => {
          const failed = spawnError();
          if (failed) throw new Error(`cannot start redis-server: ${failed.message}`);
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (code ${child.exitCode})`);
          return (await node.command('PING')) === 'PONG';
        },
        { retryErrors: true, detail: () => logs.join('\n') },
      );
      return node;
    } catch (err) {
      await terminate(child, 'SIGKILL', 2_000);
      if (attempt < 2 && logs.some((l) => /in use/i.test(l))) continue;
      throw err;
    }
  }
}

