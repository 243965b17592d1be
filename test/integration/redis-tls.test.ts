// SPEC §2 `REDIS_TLS`, `REDIS_CA_FILE` against real TLS-only redis-servers (Debian's redis-server
// is built with TLS): a standalone Redis, a Sentinel setup and a Cluster, each with a password as
// managed Redis has, their certificates signed by a private CA made with openssl for this run.
// The right CA file makes logins Redis sessions; another CA's file is refused by certificate
// verification (so the file is what is trusted, and verification is on); a CA file that cannot be
// read stops startup naming the variable.
//
//   NEXT_DIST_DIR=.next-<you> node --import tsx --test test/integration/redis-tls.test.ts

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAppExpectingFailure } from '../harness/app';
import { startCluster, type RedisCluster } from '../harness/redis-cluster';
import type { RedisNode } from '../harness/redis-node';
import { startSentinelSetup, type SentinelSetup } from '../harness/redis-sentinel';
import { makeTlsFiles, type TlsFiles } from '../harness/redis-tls';
import { startRedis, type RedisServer } from '../harness/redis';
import { redisCommand } from '../harness/resp';
import { startStack, type Stack } from '../harness/stack';
import { assertNoStack, bearerAt, callApp, loginFresh } from './support';

const PASSWORD = 'tls-redis-pw-Gm3$z8';

let tls: TlsFiles;
before(() => {
  tls = makeTlsFiles();
});
after(() => tls?.close());

/** A login that must be a Redis session: `keys()` gains one key, the session and the Bearer work. */
async function loginIntoRedis(stack: Stack, keys: () => Promise<string[]>, user: string): Promise<void> {
  const before = new Set(await keys());
  const { cookie } = await loginFresh(stack.appUrl, user);
  const added = (await keys()).filter((k) => !before.has(k));
  assert.equal(added.length, 1, `${user}'s login should store one session in Redis, found ${added.length} new keys`);
  const info = await callApp(stack.appUrl, '/oauth2/session', cookie);
  assert.equal(info.status, 200);
  assert.equal(info.json().user.sub, user);
  assert.equal((await callApp(stack.appUrl, `/api/${user}`, cookie)).status, 200);
  assert.match(bearerAt(stack, `/${user}`) ?? '', /^Bearer \S+$/);
}

async function sessionKeysOn(node: RedisNode): Promise<string[]> {
  const keys = await node.command('KEYS', 'gh:{*}:session');
  assert.ok(Array.isArray(keys), `KEYS on ${node.address}: ${String(keys)}`);
  return (keys as string[]).sort();
}

describe('standalone Redis, TLS only, with a password', () => {
  let redis: RedisServer;
  let stack: Stack;
  let otherCa: TlsFiles;
  const keys = async () => (await redis.client().keys('gh:{*}:session')).sort();

  before(async () => {
    otherCa = makeTlsFiles('some other CA');
    redis = await startRedis({ tls, password: PASSWORD });
    stack = await startStack({ redis, env: { REDIS_PASSWORD: PASSWORD, REDIS_CA_FILE: tls.caFile } });
  });
  after(async () => {
    await stack?.close();
    await redis?.close();
    otherCa?.close();
  });

  test('rediss:// with REDIS_CA_FILE: a login is a Redis session', async () => {
    assert.match(redis.url, /^rediss:\/\//);
    // No plain-text port: whatever Gatehouse stored went over TLS.
    await assert.rejects(redisCommand(redis.port, ['PING']), 'a plain-text client gets no answer');
    await loginIntoRedis(stack, keys, 'alice');
  });

  test('REDIS_TLS=true with a redis:// URL and REDIS_CA_FILE: the same', async () => {
    await stack.restartApp({ REDIS_URL: redis.url.replace(/^rediss:/, 'redis:'), REDIS_TLS: 'true' });
    await loginIntoRedis(stack, keys, 'bob');
  });

  test('REDIS_CA_FILE of another CA: the certificate is refused, a login falls back to a cookie session', async () => {
    await stack.restartApp({ REDIS_URL: redis.url, REDIS_TLS: '', REDIS_CA_FILE: otherCa.caFile });
    const before = await keys();
    const { cookie } = await loginFresh(stack.appUrl, 'carol');
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', cookie)).status, 200, 'the fallback session works');
    assert.deepEqual(await keys(), before, 'nothing was written to Redis');
    await stack.app.waitForLog(/"msg":"redis error".*(self-signed certificate|unable to verify|unable to get local issuer)/i);
    await stack.app.waitForLog(/redis unavailable at login/i);
  });

  test('REDIS_CA_FILE that cannot be read stops startup, naming the variable', async () => {
    const missing = path.join(tls.dir, 'no-such-ca.pem');
    const { code, output } = await startAppExpectingFailure({ ...stack.env, REDIS_CA_FILE: missing });
    assert.notEqual(code, 0, `exit code ${code}`);
    assert.match(output, /REDIS_CA_FILE: cannot read ".*no-such-ca\.pem" \(ENOENT\)/);
    assertNoStack(output);
    assert.ok(!output.includes(PASSWORD), 'the error output shows no password');
  });
});

describe('Sentinel over TLS, with passwords on the data nodes and on the sentinels', () => {
  let sentinel: SentinelSetup;
  let stack: Stack;

  before(async () => {
    sentinel = await startSentinelSetup({ tls, password: PASSWORD, sentinelPassword: `${PASSWORD}-sentinel` });
    stack = await startStack({
      env: {
        REDIS_SENTINELS: sentinel.sentinels,
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_PASSWORD: PASSWORD,
        REDIS_SENTINEL_PASSWORD: `${PASSWORD}-sentinel`,
        REDIS_TLS: 'true',
        REDIS_CA_FILE: tls.caFile,
      },
    });
  });
  after(async () => {
    await stack?.close();
    await sentinel?.close();
  });

  test('REDIS_TLS=true: a login lives on the master the sentinels name', async () => {
    for (const node of [sentinel.sentinelNodes[0], sentinel.master]) {
      await assert.rejects(redisCommand(node.port, ['PING']), `${node.address} has no plain-text port`);
    }
    await loginIntoRedis(stack, () => sessionKeysOn(sentinel.master), 'alice');
  });
});

describe('Cluster over TLS, with a password on every node', () => {
  let cluster: RedisCluster;
  let stack: Stack;
  const allSessionKeys = async () => (await Promise.all(cluster.masters.map(sessionKeysOn))).flat().sort();

  before(async () => {
    cluster = await startCluster({ tls, password: PASSWORD });
    stack = await startStack({ env: { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PASSWORD: PASSWORD, REDIS_TLS: 'true', REDIS_CA_FILE: tls.caFile } });
  });
  after(async () => {
    await stack?.close();
    await cluster?.close();
  });

  test('REDIS_TLS=true: sessions spread over the masters all work', async () => {
    await assert.rejects(redisCommand(cluster.masters[0].port, ['PING']), 'no plain-text port');
    // Each login lands on whichever master owns its slot; the client follows the TLS slot map.
    for (const user of ['alice', 'bob', 'carol']) await loginIntoRedis(stack, allSessionKeys, user);
  });
});
