/**
 * One contract, two stores (SPEC §5): whatever the store, a saved session loads back, a deleted
 * one is gone for good, and a front-/back-channel subject ends every matching session. The Redis
 * store runs against a real redis-server started on a free port.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis';
import { createRedisClient, whenReady } from '../../lib/redis';
import { CookieSessionStore } from '../../lib/session/cookie-store';
import { RedisSessionStore, redisKeys } from '../../lib/session/redis-store';
import { conditionalUpdateContract, newSession, storeContract } from '../../lib/testing/store-contract';
import type { SessionStore } from '../../lib/session/store';

const HOUR = 3_600_000;
const timings = { inactivityTimeoutMs: null, refreshBeforeMs: 30_000, maxLifetimeMs: 10 * HOUR };

let redis: RedisServer;
const clients: Redis[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await redis.close();
});

const factories: Record<string, () => Promise<SessionStore>> = {
  cookie: async () => new CookieSessionStore(timings.maxLifetimeMs),
  redis: async () => {
    const client = createRedisClient({ kind: 'standalone', url: redis.url }) as Redis;
    clients.push(client);
    await whenReady(client);
    return new RedisSessionStore(client, timings);
  },
};

for (const [kind, create] of Object.entries(factories)) storeContract(kind, create);
conditionalUpdateContract('redis', factories.redis);

describe('redis store specifics', () => {
  test('Redis holds no token in clear and expires the key with the session', async () => {
    const store = (await factories.redis()) as RedisSessionStore;
    const session = newSession();
    await store.create(session);
    const raw = await redis.client().get(redisKeys.session(session.id));
    assert.ok(raw);
    assert.ok(!raw.includes(session.tokens.accessToken), 'access token readable in Redis');
    assert.ok(!raw.includes(session.tokens.refreshToken!), 'refresh token readable in Redis');
    const ttl = await redis.client().pttl(redisKeys.session(session.id));
    assert.ok(ttl > HOUR - 60_000 && ttl <= HOUR, `ttl ${ttl}`);
  });

  test('a ticket with the wrong data key loads nothing', async () => {
    const store = await factories.redis();
    const payload = await store.create(newSession());
    assert.equal(payload.t, 'ticket');
    if (payload.t !== 'ticket') return;
    assert.equal(await store.load({ ...payload, key: 'x'.repeat(43) }), null);
  });

  test('the inactivity timeout shortens the key TTL', async () => {
    const client = createRedisClient({ kind: 'standalone', url: redis.url }) as Redis;
    clients.push(client);
    await whenReady(client);
    const store = new RedisSessionStore(client, { ...timings, inactivityTimeoutMs: 60_000 });
    const session = newSession();
    await store.create(session);
    const ttl = await redis.client().pttl(redisKeys.session(session.id));
    assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
  });
});

describe('redis store: updates are conditional, in Redis itself', () => {
  test('an update does not recreate an expired key, nor write outside the indexes', async () => {
    const store = await factories.redis();
    const session = newSession();
    const payload = await store.create(session);
    await redis.client().del(redisKeys.session(session.id));
    assert.equal(await store.update(session, payload), null);
    assert.equal(await redis.client().exists(redisKeys.session(session.id)), 0);
  });
});
