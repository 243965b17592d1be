// SPEC §2 Redis credentials in the other topologies: a real Sentinel setup whose data nodes want
// `REDIS_PASSWORD` (`requirepass` + `masterauth`) and whose sentinels want their own
// `REDIS_SENTINEL_PASSWORD` (`requirepass`, `sentinel auth-pass`, `sentinel sentinel-pass`), and a
// real 3-master Cluster with `requirepass`/`masterauth` on every node. With the right passwords a
// login lives in Redis; with a wrong one it falls back to a cookie session (SPEC §5) and the log
// names the authentication failure, never a password.
//
//   NEXT_DIST_DIR=.next-<you> node --import tsx --test test/integration/redis-auth-topologies.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type RedisCluster } from '../harness/redis-cluster';
import type { RedisNode } from '../harness/redis-node';
import { redisCommand } from '../harness/resp';
import { startSentinelSetup, type SentinelSetup } from '../harness/redis-sentinel';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { bearerAt, callApp, loginFresh } from './support';

const DATA_PASSWORD = 'data-pw-8Hq!v2';
const SENTINEL_PASSWORD = 'sentinel-pw-Lw4#k9';
const CLUSTER_PASSWORD = 'cluster-pw-Rr5%t1';
const WRONG_PASSWORD = 'wrong-pw-Xe7&m3';
const PASSWORDS = [DATA_PASSWORD, SENTINEL_PASSWORD, CLUSTER_PASSWORD, WRONG_PASSWORD];

function assertNoPasswordIn(logs: string[]): void {
  const text = logs.join('\n');
  for (const secret of PASSWORDS) assert.ok(!text.includes(secret), `Gatehouse's output shows a password (${secret})`);
}

async function sessionKeysOn(node: RedisNode): Promise<string[]> {
  const keys = await node.command('KEYS', 'gh:{*}:session');
  assert.ok(Array.isArray(keys), `KEYS on ${node.address}: ${String(keys)}`);
  return (keys as string[]).sort();
}

/** A login that falls back to a cookie session: it works, forwards its Bearer, and `keys()` is unchanged. */
async function assertCookieFallback(stack: Stack, keys: () => Promise<string[]>, user: string): Promise<void> {
  const before = await keys();
  const { cookie } = await loginFresh(stack.appUrl, user);
  const info = await callApp(stack.appUrl, '/oauth2/session', cookie);
  assert.equal(info.status, 200, 'the fallback session works');
  assert.equal(info.json().user.sub, user);
  assert.equal((await callApp(stack.appUrl, `/api/${user}`, cookie)).status, 200);
  assert.match(bearerAt(stack, `/${user}`) ?? '', /^Bearer \S+$/);
  assert.deepEqual(await keys(), before, 'nothing was written to Redis');
  await stack.app.waitForLog(/redis unavailable at login/i);
}

async function readinessStatus(appUrl: string): Promise<string> {
  const res = await callApp(appUrl, '/oauth2/ready', undefined);
  return `${res.status} ${res.text.slice(0, 120)}`;
}

describe('Sentinel: a password on the data nodes, another on the sentinels', () => {
  let sentinel: SentinelSetup;
  let stack: Stack;

  before(async () => {
    sentinel = await startSentinelSetup({ password: DATA_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
    stack = await startStack({
      env: {
        REDIS_SENTINELS: sentinel.sentinels,
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_PASSWORD: DATA_PASSWORD,
        REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
      },
    });
  });
  after(async () => {
    await stack?.close();
    await sentinel?.close();
  });

  test('with both passwords a login lives on the master the sentinels name', async () => {
    // Protected for real: without a password both kinds of node refuse.
    for (const node of [sentinel.sentinelNodes[0], sentinel.master]) {
      assert.match(String(await redisCommand(node.port, ['PING'])), /NOAUTH/, `${node.address} without a password`);
    }
    const { cookie } = await loginFresh(stack.appUrl, 'alice');
    const onMaster = await sessionKeysOn(sentinel.master);
    assert.equal(onMaster.length, 1, `one session key on the master ${sentinel.master.address}`);
    const replicated = await eventually('the session on the replica', 5_000, async () => {
      const keys = await sessionKeysOn(sentinel.replica);
      return keys.length === 1 && keys;
    });
    assert.deepEqual(replicated, onMaster, 'written to the master, replicated with masterauth');
    const info = await callApp(stack.appUrl, '/oauth2/session', cookie);
    assert.equal(info.status, 200);
    assert.equal(info.json().user.sub, 'alice');
    assert.equal((await callApp(stack.appUrl, '/oauth2/logout/local', cookie)).status, 204);
    assert.deepEqual(await sessionKeysOn(sentinel.master), [], 'logout deletes it on the master');
    assertNoPasswordIn(stack.app.logs);
  });

  test('wrong REDIS_SENTINEL_PASSWORD: a login falls back to a cookie session, the log points at the sentinels', async () => {
    await stack.restartApp({ REDIS_SENTINEL_PASSWORD: WRONG_PASSWORD });
    await assertCookieFallback(stack, () => sessionKeysOn(sentinel.master), 'bob');
    const line = await stack.app.waitForLog(/"msg":"redis error".*sentinels.*WRONGPASS/);
    assert.match(line, /REDIS_SENTINEL_PASSWORD/, 'the log line names the variable to check');
    assertNoPasswordIn(stack.app.logs);
  });

  test('wrong REDIS_SENTINEL_PASSWORD: readiness is 503', async () => {
    assert.match(await readinessStatus(stack.appUrl), /^503 .*store_unavailable/);
  });

  test('right sentinel password, wrong data-node password: the same fallback, the log names WRONGPASS', async () => {
    await stack.restartApp({ REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD, REDIS_PASSWORD: WRONG_PASSWORD });
    await assertCookieFallback(stack, () => sessionKeysOn(sentinel.master), 'carol');
    const line = await stack.app.waitForLog(/"msg":"redis error".*WRONGPASS/);
    assert.match(line, /REDIS_PASSWORD/);
    assertNoPasswordIn(stack.app.logs);
  });
});

describe('Cluster: requirepass and masterauth on every node', () => {
  let cluster: RedisCluster;
  let stack: Stack;

  before(async () => {
    cluster = await startCluster({ password: CLUSTER_PASSWORD });
    stack = await startStack({ env: { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PASSWORD: CLUSTER_PASSWORD } });
  });
  after(async () => {
    await stack?.close();
    await cluster?.close();
  });

  const allSessionKeys = async () => (await Promise.all(cluster.masters.map(sessionKeysOn))).flat().sort();

  test('with REDIS_PASSWORD sessions spread over the masters all work', async () => {
    const users = ['alice', 'bob', 'carol', 'dave'];
    const cookies = await Promise.all(users.map(async (u) => (await loginFresh(stack.appUrl, u)).cookie));
    const keys = await allSessionKeys();
    assert.equal(keys.length, users.length, 'one session key per login in the cluster');
    for (const [i, user] of users.entries()) {
      const info = await callApp(stack.appUrl, '/oauth2/session', cookies[i]);
      assert.equal(info.status, 200, `${user}'s session`);
      assert.equal(info.json().user.sub, user);
    }
    // Every node wants the password: the client found the owning node of each key with it.
    const slot = Number(await cluster.masters[0].command('CLUSTER', 'KEYSLOT', keys[0]));
    assert.ok((await sessionKeysOn(await cluster.nodeForSlot(slot))).includes(keys[0]));
    assert.equal((await callApp(stack.appUrl, '/oauth2/logout/local', cookies[0])).status, 204);
    assert.equal((await allSessionKeys()).length, users.length - 1, 'a logout deletes on the owning node');
    assertNoPasswordIn(stack.app.logs);
  });

  test('wrong REDIS_PASSWORD: a login falls back to a cookie session, the log names WRONGPASS', async () => {
    await stack.restartApp({ REDIS_PASSWORD: WRONG_PASSWORD });
    await assertCookieFallback(stack, allSessionKeys, 'erin');
    const line = await stack.app.waitForLog(/"msg":"redis error".*WRONGPASS/);
    assert.match(line, /REDIS_PASSWORD/);
    assertNoPasswordIn(stack.app.logs);
  });

  test('wrong REDIS_PASSWORD: readiness is 503', async () => {
    assert.match(await readinessStatus(stack.appUrl), /^503 .*store_unavailable/);
  });
});
