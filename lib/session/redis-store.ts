/**
 * Redis store (SPEC §5). The browser's cookie holds only a ticket: the session id and a random
 * per-session data key. Redis holds the session sealed with that key, so a Redis dump alone reveals
 * no token. A session's keys share the hash tag `{id}`, so they live in one Cluster slot.
 */
import { createHash, randomBytes } from 'node:crypto';
import { whenReady, type RedisClient } from '../redis';
import { seal, unseal } from '../seal';
import { timeoutAt, type Session, type SessionTimings } from './session';
import { StoreUnavailableError, type CookiePayload, type LogoutSubject, type SessionStore, type Ticket } from './store';

export const redisKeys = {
  session: (id: string) => `gh:{${id}}:session`,
  lock: (id: string) => `gh:{${id}}:lock`,
  /** Indexes for front-/back-channel logout; hashed so a dump does not list IdP session ids. */
  bySid: (sid: string) => `gh:sid:${digest(sid)}`,
  bySub: (sub: string) => `gh:sub:${digest(sub)}`,
};

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

  async save(session: Session, current?: CookiePayload): Promise<CookiePayload> {
    const ticket: Ticket = current?.t === 'ticket' && current.id === session.id ? current : { t: 'ticket', id: session.id, key: newDataKey() };
    const ttl = this.ttlMs(session);
    const sealed = await seal('stored-session', session, [ticket.key], Math.ceil(ttl / 1000) + 60);
    await guarded(this.redis, async () => {
      await this.redis.set(redisKeys.session(session.id), sealed, 'PX', ttl);
      if (current) return; // indexes are written once, at login
      const lifetime = this.timings.maxLifetimeMs;
      const indexes = [redisKeys.bySub(session.sub), ...(session.sid ? [redisKeys.bySid(session.sid)] : [])];
      await Promise.all(indexes.map(async (index) => {
        await this.redis.sadd(index, session.id);
        await this.redis.pexpire(index, lifetime);
      }));
    });
    return ticket;
  }

  async load(payload: CookiePayload): Promise<Session | null> {
    if (payload.t !== 'ticket') return null;
    const sealed = await guarded(this.redis, () => this.redis.get(redisKeys.session(payload.id)));
    if (!sealed) return null;
    const session = await unseal<Session>('stored-session', sealed, [payload.key], this.timings.maxLifetimeMs / 1000 + 60);
    return session && session.id === payload.id ? session : null;
  }

  async delete(payload: CookiePayload): Promise<void> {
    if (payload.t !== 'ticket') return;
    await guarded(this.redis, () => this.redis.del(redisKeys.session(payload.id)));
  }

  async deleteBySubject(subject: LogoutSubject): Promise<number> {
    const indexes = [subject.sid && redisKeys.bySid(subject.sid), subject.sub && redisKeys.bySub(subject.sub)].filter((k): k is string => !!k);
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
}
