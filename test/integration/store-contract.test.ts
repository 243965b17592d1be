/**
 * One contract, two stores (SPEC §5): whatever the store, a saved session loads back, a deleted
 * one is gone for good, and a front-/back-channel subject ends every matching session. The Redis
 * store runs against a real redis-server started on a free port.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis';
import { createRedisClient, whenReady } from '../../lib/redis';
import { CookieSessionStore } from '../../lib/session/cookie-store';
import { RedisSessionStore, redisKeys } from '../../lib/session/redis-store';
import type { Session } from '../../lib/session/session';
import type { SessionStore } from '../../lib/session/store';

const HOUR = 3_600_000;
const timings = { inactivityTimeoutMs: null, refreshBeforeMs: 30_000, maxLifetimeMs: 10 * HOUR };

function newSession(over: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    id: randomUUID(),
    createdAt: now - 1,
    endsAt: now + HOUR,
    lastSeenAt: now,
    sid: `sid-${randomUUID()}`,
    sub: `user-${randomUUID()}`,
    user: { name: 'Alice' },
    tokens: { accessToken: `at-${randomUUID()}`, refreshToken: `rt-${randomUUID()}`, idToken: 'id', expiresAt: now + 300_000, refreshedAt: now },
    ...over,
  };
}

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

for (const [kind, create] of Object.entries(factories)) {
  describe(`${kind} store contract`, () => {
    test('a saved session loads back unchanged', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      assert.deepEqual(await store.load(payload), session);
    });

    test('saving again keeps the same cookie payload kind and returns the new data', async () => {
      const store = await create();
      const session = newSession();
      const first = await store.create(session);
      const updated = { ...session, tokens: { ...session.tokens, accessToken: 'at-new', refreshedAt: Date.now() + 1 } };
      const second = await store.update(updated, first);
      assert.ok(second);
      assert.equal(second.t, first.t);
      assert.equal((await store.load(second))?.tokens.accessToken, 'at-new');
    });

    test('a deleted session is gone, also for a replayed payload', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      await store.delete(payload);
      assert.equal(await store.load(payload), null);
    });

    test('an update after the session was deleted writes nothing and does not bring it back', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      await store.delete(payload);
      assert.equal(await store.update({ ...session, lastSeenAt: session.lastSeenAt + 1 }, payload), null);
      assert.equal(await store.load(payload), null);
    });

    test('an update after a logout by sid writes nothing', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      await store.deleteBySubject({ sid: session.sid, verified: true });
      const refreshed = { ...session, tokens: { ...session.tokens, accessToken: 'at-late', refreshedAt: Date.now() + 5 } };
      assert.equal(await store.update(refreshed, payload), null);
      assert.equal(await store.load(payload), null);
    });

    test('deleting by sid ends every session of that IdP session and no other', async () => {
      const store = await create();
      const sid = `sid-${randomUUID()}`;
      const a = newSession({ sid });
      const b = newSession({ sid });
      const other = newSession();
      const [pa, pb, po] = [await store.create(a), await store.create(b), await store.create(other)];
      assert.ok((await store.deleteBySubject({ sid, verified: true })) >= 1);
      assert.equal(await store.load(pa), null);
      assert.equal(await store.load(pb), null);
      assert.deepEqual(await store.load(po), other);
    });

    test('deleting by sub ends that user\'s sessions', async () => {
      const store = await create();
      const a = newSession();
      const pa = await store.create(a);
      await store.deleteBySubject({ sub: a.sub, verified: true });
      assert.equal(await store.load(pa), null);
    });
  });
}

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

describe('redis store: updates are conditional', () => {
  test('a touch carrying older tokens does not overwrite a newer refresh (another replica)', async () => {
    const store = await factories.redis();
    const session = newSession();
    const payload = await store.create(session);
    const refreshed = { ...session, tokens: { ...session.tokens, accessToken: 'at-new', refreshedAt: session.tokens.refreshedAt + 1000 } };
    assert.ok(await store.update(refreshed, payload));
    const staleTouch = { ...session, lastSeenAt: session.lastSeenAt + 2000 };
    assert.equal(await store.update(staleTouch, payload), null);
    assert.equal((await store.load(payload))?.tokens.accessToken, 'at-new');
  });

  test('an update does not recreate an expired key, nor write outside the indexes', async () => {
    const store = await factories.redis();
    const session = newSession();
    const payload = await store.create(session);
    await redis.client().del(redisKeys.session(session.id));
    assert.equal(await store.update(session, payload), null);
    assert.equal(await redis.client().exists(redisKeys.session(session.id)), 0);
  });
});
