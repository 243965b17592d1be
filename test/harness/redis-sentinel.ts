// A real Redis Sentinel setup for scale-out tests (SPEC §2 `REDIS_SENTINELS`): one master + one
// replica and three sentinels monitoring `mymaster` (quorum 2), each sentinel with its own
// generated config file. Free ports (never 6379/26379), persistence off, a temp dir that close()
// removes. Returned only once a client would find it working: every sentinel names the master
// and the replica is in sync. Optionally protected as managed Redis is: a password on the data
// nodes, another on the sentinels, TLS only everywhere (replication and sentinel links included).

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { HOST, Owned, noPersistence, spawnNode, type RedisNode } from './redis-node';
import { tlsListenArgs, type TlsFiles } from './redis-tls';
import { infoFields, type RespAccess, type RespValue } from './resp';
import { eventually } from './wait';

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
  /** `requirepass` and `masterauth` on the master and the replica; the sentinels get it as `auth-pass`. */
  password?: string;
  /** `requirepass` on every sentinel (and `sentinel-pass`, so they still talk to each other). */
  sentinelPassword?: string;
  /** TLS only on every node and sentinel, with replication and sentinel links over TLS too. */
  tls?: TlsFiles;
}

/** Command-line arguments as config-file lines: ['--tls-port', '7000'] → ['tls-port 7000']. */
function configLines(args: string[]): string[] {
  const lines: string[][] = [];
  for (const arg of args) {
    if (arg.startsWith('--')) lines.push([arg.slice(2)]);
    else lines[lines.length - 1].push(arg);
  }
  return lines.map((words) => words.join(' '));
}

/** Whether every sentinel names `master` as the master of `name`. */
async function allSentinelsName(sentinels: RedisNode[], name: string, master: RedisNode): Promise<boolean> {
  const replies = await Promise.all(sentinels.map((s) => s.command('SENTINEL', 'get-master-addr-by-name', name)));
  return replies.every((r) => Array.isArray(r) && r[0] === HOST && r[1] === String(master.port));
}

export async function startSentinelSetup(opts: SentinelOptions = {}): Promise<SentinelSetup> {
  const name = opts.name ?? 'mymaster';
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const owned = new Owned('gatehouse-sentinel-');
  try {
    const { password, sentinelPassword, tls } = opts;
    const listen = (port: number) => (tls ? [...tlsListenArgs(port, tls), '--tls-replication', 'yes'] : ['--port', String(port)]);
    const auth = password === undefined ? [] : ['--requirepass', password, '--masterauth', password];
    const dataAccess: RespAccess = { ...(password !== undefined ? { password } : {}), ...(tls ? { ca: tls.ca } : {}) };
    const sentinelAccess: RespAccess = { ...(sentinelPassword !== undefined ? { password: sentinelPassword } : {}), ...(tls ? { ca: tls.ca } : {}) };
    // Diskless sync waits 5 s by default for more replicas to join; there is only one.
    const master = await spawnNode(owned, 'master', (port) => [
      ...listen(port), '--bind', HOST, ...noPersistence(owned.dir), ...auth, '--repl-diskless-sync-delay', '0',
    ], undefined, dataAccess);
    const replica = await spawnNode(owned, 'replica', (port) => [
      ...listen(port), '--bind', HOST, ...noPersistence(owned.dir), ...auth, '--replicaof', HOST, String(master.port),
    ], undefined, dataAccess);

    const sentinelNodes: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      sentinelNodes.push(
        await spawnNode(owned, `sentinel ${i + 1}`, (port) => {
          // Sentinel rewrites its config file (known replicas, peers, epochs): one writable file each.
          const conf = path.join(owned.dir, `sentinel-${port}.conf`);
          writeFileSync(
            conf,
            [
              ...configLines(listen(port)),
              `bind ${HOST}`,
              'daemonize no',
              `dir ${owned.dir}`,
              'loglevel warning',
              `sentinel monitor ${name} ${HOST} ${master.port} 2`,
              `sentinel down-after-milliseconds ${name} 5000`,
              `sentinel failover-timeout ${name} 10000`,
              `sentinel parallel-syncs ${name} 1`,
              ...(password !== undefined ? [`sentinel auth-pass ${name} ${password}`] : []),
              ...(sentinelPassword !== undefined ? [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`] : []),
              '',
            ].join('\n'),
          );
          return [conf, '--sentinel'];
        }, undefined, sentinelAccess),
      );
    }

    await eventually(`sentinels reporting ${name} at ${master.address}`, timeoutMs, () => allSentinelsName(sentinelNodes, name, master), {
      retryErrors: true,
      detail: () => sentinelNodes.map((s) => `${s.address}:\n${s.logs.join('\n')}`).join('\n'),
    });
    await eventually(
      `replica ${replica.address} in sync with ${master.address}`,
      timeoutMs,
      async () => infoFields(await replica.command('INFO', 'replication')).master_link_status === 'up',
      { retryErrors: true, detail: () => replica.logs.join('\n') },
    );
    if (opts.awaitQuorum) {
      await eventually(
        `sentinel quorum for ${name}`,
        timeoutMs,
        async () => {
          const replies = await Promise.all(sentinelNodes.map((s) => s.command('SENTINEL', 'ckquorum', name)));
          return replies.every((r) => typeof r === 'string' && r.startsWith('OK'));
        },
        { retryErrors: true },
      );
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
        await eventually(
          `SENTINEL FAILOVER ${name} accepted`,
          failoverTimeoutMs,
          async () => {
            last = await sentinelNodes[0].command('SENTINEL', 'FAILOVER', name);
            return last === 'OK';
          },
          { retryErrors: true, detail: () => String(last) },
        );
        await eventually(`every sentinel naming ${to.address} as ${name}`, failoverTimeoutMs, () => allSentinelsName(sentinelNodes, name, to), {
          retryErrors: true,
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
