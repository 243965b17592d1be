// A real Redis Cluster for scale-out tests (SPEC §2 `REDIS_CLUSTER_NODES`): three masters joined
// into one cluster covering all 16384 slots. Free ports (never 6379), persistence off, a temp dir
// that close() removes. Returned only once every node says `cluster_state:ok`. Optionally with a
// password on every node (`requirepass` + `masterauth`) and TLS only (client port and cluster bus).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports';
import { HOST, Owned, noPersistence, spawnNode, type RedisNode } from './redis-node';
import { tlsListenArgs, type TlsFiles } from './redis-tls';
import { infoFields, type RespAccess, type RespValue } from './resp';
import { eventually } from './wait';

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
  /** `requirepass` and `masterauth` on every node. */
  password?: string;
  /** TLS only, the cluster bus included (`tls-cluster yes`). */
  tls?: TlsFiles;
}

const SLOTS = 16384;

function redisCliBinary(): string | undefined {
  for (const candidate of ['/usr/bin/redis-cli', 'redis-cli']) {
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<RedisCluster> {
  const count = opts.masters ?? 3;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const owned = new Owned('gatehouse-cluster-');
  const { password, tls } = opts;
  const access: RespAccess = { ...(password !== undefined ? { password } : {}), ...(tls ? { ca: tls.ca } : {}) };
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
            ...(tls ? [...tlsListenArgs(port, tls), '--tls-cluster', 'yes', '--tls-replication', 'yes'] : ['--port', String(port)]),
            ...(password === undefined ? [] : ['--requirepass', password, '--masterauth', password]),
            '--bind', HOST,
            ...noPersistence(owned.dir),
            '--cluster-enabled', 'yes',
            '--cluster-config-file', path.join(owned.dir, `nodes-${port}.conf`),
            '--cluster-port', String(busPort),
            '--cluster-node-timeout', '5000',
          ];
        }, undefined, access),
      );
    }

    const cli = opts.joinByHand ? undefined : redisCliBinary();
    if (cli && count >= 3) {
      const cliAccess = [
        ...(password === undefined ? [] : ['-a', password, '--no-auth-warning']),
        ...(tls ? ['--tls', '--cacert', tls.caFile] : []),
      ];
      const result = spawnSync(cli, [...cliAccess, '--cluster', 'create', ...masters.map((m) => m.address), '--cluster-replicas', '0', '--cluster-yes'], {
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
    await eventually(
      'cluster_state:ok on every node',
      timeoutMs,
      async () => {
        const infos = await Promise.all(masters.map(async (m) => (states[m.address] = infoFields(await m.command('CLUSTER', 'INFO')))));
        return infos.every(
          (i) => i.cluster_state === 'ok' && i.cluster_slots_assigned === String(SLOTS) && i.cluster_known_nodes === String(count),
        );
      },
      { retryErrors: true, detail: () => JSON.stringify(states, null, 2) },
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
