/**
 * Redis store (SPEC §5), the only module that speaks to Redis about sessions. The browser's cookie holds only a ticket: the session id and a random
 * per-session data key. Redis holds the session sealed with that key, so a Redis dump alone reveals
 * no token. A session's keys share the hash tag `{id}`, so they live in one Cluster slot.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { whenReady, type RedisClient } from '../redis';
import { seal, unseal } from '../seal';
import { logoutKey, timeoutAt, type Session, type SessionTimings } from './session';
import { StoreUnavailableError, type CookiePayload, type FirstUse, type LogoutSubject, type SessionLock, type SessionStore, type Ticket } from './store';

export const redisKeys = {
  session: (id: string) => `gh:{${id}}:session`,
  lock: (id: string) => `gh:{${id}}:lock`,
  /** A replay-protected id (logout token `jti`), hashed: any length in, one size stored. */
  seen: (id: string) => `gh:jti:${digest(id)}`,
  /** Indexes for front-/back-channel logout; hashed so a dump does not list IdP session ids. */
  bySid: (sid: string) => `gh:sid:${digest(sid)}`,
  bySub: (sub: string) => `gh:sub:${digest(sub)}`,
};

/**
 * The write of an update (see `SessionStore.save`), atomic in Redis: only while the key exists,
 * and only when the stored tokens are not newer. The value starts with the tokens' `refreshedAt`
 * (ms) and a `:`, so the script can compare without opening the seal.
 */
const UPDATE_IF_CURRENT = `
local stored = redis.call('get', KEYS[1])
if not stored then return 0 end
local at = tonumber(string.match(stored, '^(%d+):'))
if at and at > tonumber(ARGV[3]) then return -1 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Deletes the lock only while it still holds this owner's token. */
const RELEASE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Long enough for a slow refresh grant (IdP timeout 5 s), short enough that a crashed holder does not block for long. */
export const LOCK_TTL_MS = 15_000;

const SCAN_BATCH = 1000;

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');
const newDataKey = () => randomBytes(32).toString('base64url');

/** Runs a Redis call, turning any failure (down, frozen, refused) into `StoreUnavailableError`. */
export async function guarded<T>(redis: RedisClient, call: () => Promise<T>): Promise<T> {
  try {
    await whenReady(redis);
    return await call();
  } catch (error) {
    throw new StoreUnavailableError(error);
  }
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;

  constructor(
    readonly redis: RedisClient,
    private readonly timings: SessionTimings & { maxLifetimeMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Time to live: the absolute end, or the idle deadline when that comes first. */
  private ttlMs(session: Session): number {
    const idle = timeoutAt(session, this.timings);
    return Math.max(1, Math.min(session.endsAt, idle ?? Infinity) - this.now());
  }

  /** The stored value: the tokens' `refreshedAt`, `:`, the session sealed with the ticket's key. */
  private async storedValue(session: Session, ticket: Ticket, ttlMs: number): Promise<string> {
    return `${session.tokens.refreshedAt}:${await seal('stored-session', session, [ticket.key], Math.ceil(ttlMs / 1000) + 60)}`;
  }

  async create(session: Session): Promise<CookiePayload> {
    const ticket: Ticket = { t: 'ticket', id: session.id, key: newDataKey() };
    const ttl = this.ttlMs(session);
    const value = await this.storedValue(session, ticket, ttl);
    return guarded(this.redis, async () => {
      await this.redis.set(redisKeys.session(session.id), value, 'PX', ttl);
      const lifetime = this.timings.maxLifetimeMs;
      const indexes = [redisKeys.bySub(logoutKey(session.sub, session.provider)), ...(session.sid ? [redisKeys.bySid(logoutKey(session.sid, session.provider))] : [])];
      await Promise.all(indexes.map(async (index) => {
        await this.redis.sadd(index, session.id);
        await this.redis.pexpire(index, lifetime);
      }));
      return ticket;
    });
  }

  async update(session: Session, current: CookiePayload): Promise<CookiePayload | null> {
    if (current.t !== 'ticket' || current.id !== session.id) return null;
    const ttl = this.ttlMs(session);
    const value = await this.storedValue(session, current, ttl);
    const written = await guarded(this.redis, () => this.redis.eval(UPDATE_IF_CURRENT, 1, redisKeys.session(session.id), value, String(ttl), String(session.tokens.refreshedAt)));
    return written === 1 ? current : null;
  }

  async load(payload: CookiePayload): Promise<Session | null> {
    if (payload.t !== 'ticket') return null;
    const value = await guarded(this.redis, () => this.redis.get(redisKeys.session(payload.id)));
    if (!value) return null;
    const session = await unseal<Session>('stored-session', value.slice(value.indexOf(':') + 1), [payload.key], this.timings.maxLifetimeMs / 1000 + 60);
    return session && session.id === payload.id ? session : null;
  }

  async delete(payload: CookiePayload): Promise<void> {
    if (payload.t !== 'ticket') return;
    await guarded(this.redis, () => this.redis.del(redisKeys.session(payload.id)));
  }

  async deleteBySubject(subject: LogoutSubject): Promise<number> {
    const indexes = [subject.sid && redisKeys.bySid(logoutKey(subject.sid, subject.provider)), subject.sub && redisKeys.bySub(logoutKey(subject.sub, subject.provider))].filter((k): k is string => !!k);
    return guarded(this.redis, async () => {
      let ended = 0;
      for (const index of indexes) {
        const ids = await this.redis.smembers(index);
        for (const id of ids) ended += await this.redis.del(redisKeys.session(id));
        await this.redis.del(index);
      }
      return ended;
    });
  }

  refreshLock(sessionId: string): SessionLock {
    const key = redisKeys.lock(sessionId);
    const owner = randomUUID();
    return {
      tryAcquire: async () => (await guarded(this.redis, () => this.redis.set(key, owner, 'PX', LOCK_TTL_MS, 'NX'))) === 'OK',
      release: async () => {
        await this.redis.eval(RELEASE_IF_OWNER, 1, key, owner).catch(() => undefined); // else it lapses
      },
    };
  }

  async firstUse(id: string, untilMs: number): Promise<FirstUse> {
    const ttl = Math.max(1_000, untilMs - Date.now());
    return (await guarded(this.redis, () => this.redis.set(redisKeys.seen(id), '1', 'PX', ttl, 'NX'))) === 'OK' ? 'first' : 'replayed';
  }

  async ping(): Promise<void> {
    await guarded(this.redis, () => this.redis.ping());
  }

  /**
   * Redis has no count of keys by pattern, so this walks the keyspace with SCAN (on every master
   * of a Cluster): one pass over all keys per scrape, in batches that never block Redis, and a key
   * may be counted twice while Redis resizes its tables. Every replica reports the same figure.
   */
  async countActive(): Promise<number> {
    await whenReady(this.redis);
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    let total = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', redisKeys.session('*'), 'COUNT', SCAN_BATCH);
        total += keys.length;
        cursor = next;
      } while (cursor !== '0');
    }
    return total;
  }
}
