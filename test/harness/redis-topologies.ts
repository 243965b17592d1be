// Real Redis topologies for scale-out tests (SPEC §2 `REDIS_SENTINELS`, `REDIS_CLUSTER_NODES`):
//
//   startSentinelSetup() — one master + one replica and three sentinels monitoring `mymaster`
//                          (quorum 2), each sentinel with its own generated config file;
//   startCluster()       — three masters joined into a Redis Cluster covering all 16384 slots.
//
// Everything runs on free ports (never 6379/26379) in a temp dir that close() removes, with
// persistence off. Readiness is polled with bounded deadlines: a topology is returned only once a
// client would find it working (sentinels name the master, the replica is in sync, every cluster
// node says `cluster_state:ok`).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { sleep, terminate, track } from './processes';

const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// A minimal RESP client: one connection per command, no retries, bounded by a timeout. Readiness
// polls must see the server as it is, not as a client library's reconnect logic presents it.
// ---------------------------------------------------------------------------------------------

export type RespValue = string | number | null | RespValue[] | RespError;

export class RespError extends Error {
  override name = 'RespError';
}

/** Parses one RESP2 value from `buf` at `at`; undefined when more bytes are needed. */
function parseResp(buf: Buffer, at: number): { value: RespValue; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new RespError(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** Sends one command to `host:port` and resolves with its reply (a `RespError` for `-ERR…`).
 *  Rejects on connection failure or when no full reply arrives within `timeoutMs`. */
export function redisCommand(port: number, args: Array<string | number>, timeoutMs = 1_000, host = HOST): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (fn: () => void) => {
      socket.destroy();
      fn();
    };
    socket.setTimeout(timeoutMs, () => done(() => reject(new Error(`${host}:${port} ${args[0]}: no reply within ${timeoutMs} ms`))));
    socket.on('error', (err) => done(() => reject(err)));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const parsed = parseResp(buf, 0);
        if (parsed) done(() => resolve(parsed.value));
      } catch (err) {
        done(() => reject(err));
      }
    });
  });
}

/** `INFO`-style "key:value" lines as an object. */
export function infoFields(text: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof text !== 'string') return out;
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Polls `check` until it returns a truthy value; throws with the last observation at the deadline. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | false | undefined>, describe: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  let lastError = '';
  for (;;) {
    try {
      const result = await check();
      if (result) return result;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not reached within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}\n${describe()}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

export interface RedisNode {
  host: string;
  port: number;
  /** `host:port` */
  address: string;
  url: string;
  process: ChildProcess;
  /** Output of the process, for failure messages. */
  logs: string[];
  /** One command against this node (see redisCommand). */
  command(...args: Array<string | number>): Promise<RespValue>;
}

function redisServerBinary(): string {
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

function redisCliBinary(): string | undefined {
  for (const candidate of ['/usr/bin/redis-cli', 'redis-cli']) {
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Where processes and temp dirs of one topology are recorded for close(). */
class Owned {
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

/**
 * Spawns a redis-server with the arguments `buildArgs` makes for a free port, waits for PING, and
 * retries with new ports when one was taken between freePort() and the bind.
 */
async function spawnNode(owned: Owned, label: string, buildArgs: (port: number) => Promise<string[]> | string[], readyTimeoutMs = 10_000): Promise<RedisNode> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = await buildArgs(port);
    const logs: string[] = [];
    const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: owned.dir });
    track(child);
    owned.children.push(child);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => logs.push(...chunk.split('\n').filter(Boolean)));
    }
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    const node: RedisNode = {
      host: HOST,
      port,
      address: `${HOST}:${port}`,
      url: `redis://${HOST}:${port}`,
      process: child,
      logs,
      command: (...cmd) => redisCommand(port, cmd),
    };
    try {
      await until(`${label} on ${node.address} answering PING`, readyTimeoutMs, async () => {
        if (spawnError) throw new Error(`cannot start redis-server: ${spawnError.message}`);
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (code ${child.exitCode})`);
        return (await node.command('PING')) === 'PONG';
      }, () => logs.join('\n'));
      return node;
    } catch (err) {
      await terminate(child, 'SIGKILL', 2_000);
      if (attempt < 2 && logs.some((l) => /in use/i.test(l))) continue;
      throw err;
    }
  }
}

const noPersistence = (dir: string) => ['--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];

// ---------------------------------------------------------------------------------------------
// Sentinel
// ---------------------------------------------------------------------------------------------

export interface SentinelSetup {
  /** For REDIS_SENTINELS: `host:port,host:port,host:port`. */
  sentinels: string;
  /** For REDIS_SENTINEL_NAME. */
  name: string;
  /** The current master and replica; failover() swaps them. */
  master: RedisNode;
  replica: RedisNode;
  sentinelNodes: RedisNode[];
  /**
   * A planned failover (`SENTINEL FAILOVER`, what operators and rolling upgrades use): resolves
   * once every sentinel names the replica as the master, with `master`/`replica` swapped. The old
   * master keeps running as a master until Sentinel demotes it some seconds later.
   */
  failover(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface SentinelOptions {
  /** Default 'mymaster'. */
  name?: string;
  /** Also wait until every sentinel knows the other two and the quorum is reachable (a failover
   *  test needs it; costs a few seconds of hello messages). Default false. */
  awaitQuorum?: boolean;
  /** Overall readiness budget. Default 20 s. */
  timeoutMs?: number;
}

export async function startSentinelSetup(opts: SentinelOptions = {}): Promise<SentinelSetup> {
  const name = opts.name ?? 'mymaster';
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const owned = new Owned('gatehouse-sentinel-');
  try {
    // Diskless sync waits 5 s by default for more replicas to join; there is only one.
    const master = await spawnNode(owned, 'master', (port) => [
      '--port', String(port), '--bind', HOST, ...noPersistence(owned.dir), '--repl-diskless-sync-delay', '0',
    ]);
    const replica = await spawnNode(owned, 'replica', (port) => [
      '--port', String(port), '--bind', HOST, ...noPersistence(owned.dir), '--replicaof', HOST, String(master.port),
    ]);

    const sentinelNodes: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      sentinelNodes.push(
        await spawnNode(owned, `sentinel ${i + 1}`, (port) => {
          // Sentinel rewrites its config file (known replicas, peers, epochs): one writable file each.
          const conf = path.join(owned.dir, `sentinel-${port}.conf`);
          writeFileSync(
            conf,
            [
              `port ${port}`,
              `bind ${HOST}`,
              'daemonize no',
              `dir ${owned.dir}`,
              'loglevel warning',
              `sentinel monitor ${name} ${HOST} ${master.port} 2`,
              `sentinel down-after-milliseconds ${name} 5000`,
              `sentinel failover-timeout ${name} 10000`,
              `sentinel parallel-syncs ${name} 1`,
              '',
            ].join('\n'),
          );
          return [conf, '--sentinel'];
        }),
      );
    }

    const masterAddr = [HOST, String(master.port)];
    await until(
      `sentinels reporting ${name} at ${master.address}`,
      timeoutMs,
      async () => {
        const replies = await Promise.all(sentinelNodes.map((s) => s.command('SENTINEL', 'get-master-addr-by-name', name)));
        return replies.every((r) => Array.isArray(r) && r[0] === masterAddr[0] && r[1] === masterAddr[1]);
      },
      () => sentinelNodes.map((s) => `${s.address}:\n${s.logs.join('\n')}`).join('\n'),
    );
    await until(
      `replica ${replica.address} in sync with ${master.address}`,
      timeoutMs,
      async () => infoFields(await replica.command('INFO', 'replication')).master_link_status === 'up',
      () => replica.logs.join('\n'),
    );
    if (opts.awaitQuorum) {
      await until(`sentinel quorum for ${name}`, timeoutMs, async () => {
        const replies = await Promise.all(sentinelNodes.map((s) => s.command('SENTINEL', 'ckquorum', name)));
        return replies.every((r) => typeof r === 'string' && r.startsWith('OK'));
      });
    }

    const setup: SentinelSetup = {
      sentinels: sentinelNodes.map((s) => s.address).join(','),
      name,
      master,
      replica,
      sentinelNodes,
      async failover(failoverTimeoutMs = 20_000) {
        const [from, to] = [setup.master, setup.replica];
        // The sentinel refuses (-NOGOODSLAVE) until it has seen the replica healthy: retry until it agrees.
        let last: RespValue = null;
        await until(`SENTINEL FAILOVER ${name} accepted`, failoverTimeoutMs, async () => {
          last = await sentinelNodes[0].command('SENTINEL', 'FAILOVER', name);
          return last === 'OK';
        }, () => String(last));
        const want = [HOST, String(to.port)];
        await until(`every sentinel naming ${to.address} as ${name}`, failoverTimeoutMs, async () => {
          const replies = await Promise.all(sentinelNodes.map((s) => s.command('SENTINEL', 'get-master-addr-by-name', name)));
          return replies.every((r) => Array.isArray(r) && r[0] === want[0] && r[1] === want[1]);
        });
        setup.master = to;
        setup.replica = from;
      },
      close: () => owned.close(),
    };
    return setup;
  } catch (err) {
    await owned.close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

export interface RedisCluster {
  /** For REDIS_CLUSTER_NODES: `host:port,host:port,host:port`. */
  nodes: string;
  masters: RedisNode[];
  /** The node holding `slot` (from CLUSTER SLOTS of the first node). */
  nodeForSlot(slot: number): Promise<RedisNode>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Default 3 (the minimum redis-cli accepts). */
  masters?: number;
  /** Join with CLUSTER MEET/ADDSLOTSRANGE even when redis-cli is installed. Default false. */
  joinByHand?: boolean;
  /** Overall readiness budget. Default 30 s. */
  timeoutMs?: number;
}

const SLOTS = 16384;

export async function startCluster(opts: ClusterOptions = {}): Promise<RedisCluster> {
  const count = opts.masters ?? 3;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const owned = new Owned('gatehouse-cluster-');
  try {
    const masters: RedisNode[] = [];
    const busPorts = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      masters.push(
        await spawnNode(owned, `cluster node ${i + 1}`, async (port) => {
          // The bus port defaults to port + 10000, which may be taken or above 65535: pick one.
          const busPort = await freePort();
          busPorts.set(port, busPort);
          return [
            '--port', String(port),
            '--bind', HOST,
            ...noPersistence(owned.dir),
            '--cluster-enabled', 'yes',
            '--cluster-config-file', path.join(owned.dir, `nodes-${port}.conf`),
            '--cluster-port', String(busPort),
            '--cluster-node-timeout', '5000',
          ];
        }),
      );
    }

    const cli = opts.joinByHand ? undefined : redisCliBinary();
    if (cli && count >= 3) {
      const result = spawnSync(cli, ['--cluster', 'create', ...masters.map((m) => m.address), '--cluster-replicas', '0', '--cluster-yes'], {
        encoding: 'utf8',
        timeout: timeoutMs,
      });
      if (result.status !== 0) {
        throw new Error(`redis-cli --cluster create failed (status ${result.status}):\n${result.stdout}\n${result.stderr}`);
      }
    } else {
      // By hand: split the slots into contiguous ranges, then introduce every node to the first.
      for (let i = 0; i < count; i++) {
        const from = Math.floor((i * SLOTS) / count);
        const to = Math.floor(((i + 1) * SLOTS) / count) - 1;
        const reply = await masters[i].command('CLUSTER', 'ADDSLOTSRANGE', from, to);
        if (reply !== 'OK') throw new Error(`CLUSTER ADDSLOTSRANGE on ${masters[i].address}: ${String(reply)}`);
      }
      for (const node of masters.slice(1)) {
        const reply = await node.command('CLUSTER', 'MEET', HOST, masters[0].port, busPorts.get(masters[0].port)!);
        if (reply !== 'OK') throw new Error(`CLUSTER MEET from ${node.address}: ${String(reply)}`);
      }
    }

    const states: Record<string, Record<string, string>> = {};
    await until(
      'cluster_state:ok on every node',
      timeoutMs,
      async () => {
        const infos = await Promise.all(masters.map(async (m) => (states[m.address] = infoFields(await m.command('CLUSTER', 'INFO')))));
        return infos.every(
          (i) => i.cluster_state === 'ok' && i.cluster_slots_assigned === String(SLOTS) && i.cluster_known_nodes === String(count),
        );
      },
      () => JSON.stringify(states, null, 2),
    );

    return {
      nodes: masters.map((m) => m.address).join(','),
      masters,
      async nodeForSlot(slot: number) {
        const slots = (await masters[0].command('CLUSTER', 'SLOTS')) as RespValue[];
        for (const range of slots as RespValue[][]) {
          const [from, to, owner] = range as [number, number, RespValue[]];
          if (slot >= from && slot <= to) {
            const port = Number(owner[1]);
            const node = masters.find((m) => m.port === port);
            if (node) return node;
          }
        }
        throw new Error(`no node serves slot ${slot}`);
      },
      close: () => owned.close(),
    };
  } catch (err) {
    await owned.close();
    throw err;
  }
}
