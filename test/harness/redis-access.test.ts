// Self-test of the harness's protected Redis: a TLS-only redis-server with `requirepass` and an
// ACL user answers the harness (RESP with AUTH over TLS, and its ioredis client), and refuses a
// wrong password with the server's own error, which the Redis suites rely on.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from './redis';
import { makeTlsFiles, type TlsFiles } from './redis-tls';
import { RespError, redisCommand } from './resp';

describe('protected throwaway Redis', () => {
  let tls: TlsFiles;
  let redis: RedisServer;

  before(async () => {
    tls = makeTlsFiles();
    redis = await startRedis({ tls, password: 'admin-pw', aclUsers: ['gh on >gh-pw ~gh:* +@all'] });
  });
  after(async () => {
    await redis?.close();
    tls?.close();
  });

  test('TLS only, with the harness logged in', async () => {
    assert.equal(redis.url, `rediss://127.0.0.1:${redis.port}`);
    assert.equal(await redisCommand(redis.port, ['PING'], 1_000, '127.0.0.1', redis.access), 'PONG');
    await redis.client().set('gh:harness', 'v');
    assert.equal(await redis.client().get('gh:harness'), 'v');
    await assert.rejects(redisCommand(redis.port, ['PING']), 'no plain-text port');
  });

  test('the ACL user is limited to its keys', async () => {
    const gh = { username: 'gh', password: 'gh-pw', ca: tls.ca };
    assert.equal(await redisCommand(redis.port, ['SET', 'gh:x', '1'], 1_000, '127.0.0.1', gh), 'OK');
    const outside = await redisCommand(redis.port, ['SET', 'other', '1'], 1_000, '127.0.0.1', gh);
    assert.ok(outside instanceof RespError && /^NOPERM/.test(outside.message), String(outside));
  });

  test('a wrong password or none gets the server\'s error as the reply', async () => {
    const wrong = await redisCommand(redis.port, ['PING'], 1_000, '127.0.0.1', { password: 'nope', ca: tls.ca });
    assert.ok(wrong instanceof RespError && /^WRONGPASS/.test(wrong.message), String(wrong));
    const none = await redisCommand(redis.port, ['PING'], 1_000, '127.0.0.1', { ca: tls.ca });
    assert.ok(none instanceof RespError && /^NOAUTH/.test(none.message), String(none));
  });
});
