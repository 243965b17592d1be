/**
 * A `SessionStore` in memory that behaves like the Redis store (lib/session/redis-store.ts), for
 * unit tests of everything above the store: tickets with a per-session data key, key TTLs, the
 * conditional write of `UPDATE_IF_CURRENT`, the refresh lock with owner tokens and a TTL, the
 * `sid`/`sub` logout indexes and `firstUse`. It answers as `kind: 'redis'`, so `Sessions` routes
 * tickets to it exactly as it does to Redis.
 *
 * `mode` stands in for Redis's health: `down` makes every call throw `StoreUnavailableError` (what
 * `guarded()` turns a refused or timed-out command into); `hang` holds every call until `resume()`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { LOCK_TTL_MS } from '../session/redis-store';
import { logoutKey, timeoutAt, type Session, type SessionTimings } from '../session/session';
import { StoreUnavailableError, type CookiePayload, type FirstUse, type LogoutSubject, type SessionLock, type SessionStore, type Ticket } from '../session/store';

export type StoreMode = 'up' | 'down' | 'hang';

interface Stored { value: string; key: string; refreshedAt: number; expiresAt: number }
interface Expiring<T> { value: T; expiresAt: number }

export class MemorySessionStore implements SessionStore {
  readonly kind = 'redis' as const;
  mode: StoreMode = 'up';
  /** Calls per operation (`create`, `update`, `load`, `delete`, `lock`, …), counted even when down. */
  readonly calls = new Map<string, number>();
  private readonly keys = new Map<string, Stored>();
  private readonly indexes = new Map<string, Expiring<Set<string>>>();
  private readonly locks = new Map<string, Expiring<string>>();
  private readonly seen = new Map<string, number>();
  private held: Array<() => void> = [];

  constructor(
    private readonly timings: SessionTimings & { maxLifetimeMs: number },
    private readonly now: () => number = Date.now,
    private readonly lockTtlMs = LOCK_TTL_MS,
  ) {}

  /** Calls held by `hang`, waiting for `resume()`. */
  get pending(): number {
    return this.held.length;
  }

  /** Lets held calls go on, in `mode` (`down`: they fail, as a command that timed out). */
  resume(mode: StoreMode = 'up') {
    this.mode = mode;
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  count(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }

  /** What the store holds for a session id now (as Redis would hand it to `load`), or null. */
  peek(id: string): Session | null {
    const stored = this.live(this.keys, id);
    return stored ? (JSON.parse(stored.value) as Session) : null;
  }

  /** The session key lapses now, as a Redis key whose TTL ran out. */
  expire(id: string) {
    this.keys.delete(id);
  }

  private async call<T>(operation: string, run: () => T): Promise<T> {
    this.calls.set(operation, this.count(operation) + 1);
    if (this.mode === 'hang') await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.mode === 'down') throw new StoreUnavailableError(new Error(`memory store is down (${operation})`));
    return run();
  }

  /** An entry that has not lapsed; lapsed ones go on the way, as Redis expires keys lazily. */
  private live<T extends { expiresAt: number }>(map: Map<string, T>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The Redis store's TTL: the absolute end, or the idle deadline when that comes first. */
  private expiryOf(session: Session): number {
    const idle = timeoutAt(session, this.timings);
    return this.now() + Math.max(1, Math.min(session.endsAt, idle ?? Infinity) - this.now());
  }

  /** Serialised, as the sealed value in Redis is: a loaded session never shares objects with the caller's. */
  private entry(session: Session, key: string): Stored {
    return { value: JSON.stringify(session), key, refreshedAt: session.tokens.refreshedAt, expiresAt: this.expiryOf(session) };
  }

  private index(name: string, id: string) {
    const existing = this.live(this.indexes, name);
    const ids = existing?.value ?? new Set<string>();
    ids.add(id);
    this.indexes.set(name, { value: ids, expiresAt: this.now() + this.timings.maxLifetimeMs });
  }

  create(session: Session): Promise<CookiePayload> {
    return this.call('create', () => {
      const ticket: Ticket = { t: 'ticket', id: session.id, key: randomBytes(32).toString('base64url') };
      this.keys.set(session.id, this.entry(session, ticket.key));
      this.index(`sub:${logoutKey(session.sub, session.provider)}`, session.id);
      if (session.sid) this.index(`sid:${logoutKey(session.sid, session.provider)}`, session.id);
      return ticket;
    });
  }

  async update(session: Session, current: CookiePayload): Promise<CookiePayload | null> {
    if (current.t !== 'ticket' || current.id !== session.id) return null;
    return this.call('update', () => {
      // UPDATE_IF_CURRENT: only while the key exists, and only when the stored tokens are not newer.
      const stored = this.live(this.keys, session.id);
      if (!stored || stored.refreshedAt > session.tokens.refreshedAt) return null;
      // Redis overwrites whatever is there; a ticket with another data key could not open it after.
      this.keys.set(session.id, this.entry(session, current.key));
      return current;
    });
  }

  async load(payload: CookiePayload): Promise<Session | null> {
    if (payload.t !== 'ticket') return null;
    return this.call('load', () => {
      const stored = this.live(this.keys, payload.id);
      // A wrong data key cannot open the seal in Redis: nothing.
      if (!stored || stored.key !== payload.key) return null;
      const session = JSON.parse(stored.value) as Session;
      return session.id === payload.id ? session : null;
    });
  }

  async delete(payload: CookiePayload): Promise<void> {
    if (payload.t !== 'ticket') return;
    await this.call('delete', () => this.keys.delete(payload.id));
  }

  deleteBySubject(subject: LogoutSubject): Promise<number> {
    return this.call('deleteBySubject', () => {
      const names = [subject.sid && `sid:${logoutKey(subject.sid, subject.provider)}`, subject.sub && `sub:${logoutKey(subject.sub, subject.provider)}`].filter((n): n is string => !!n);
      let ended = 0;
      for (const name of names) {
        for (const id of this.live(this.indexes, name)?.value ?? []) {
          if (this.live(this.keys, id)) ended += 1;
          this.keys.delete(id);
        }
        this.indexes.delete(name);
      }
      return ended;
    });
  }

  refreshLock(sessionId: string): SessionLock {
    const owner = randomUUID();
    return {
      // SET NX PX: taken only when no live lock exists.
      tryAcquire: () =>
        this.call('lock', () => {
          if (this.live(this.locks, sessionId)) return false;
          this.locks.set(sessionId, { value: owner, expiresAt: this.now() + this.lockTtlMs });
          return true;
        }),
      // RELEASE_IF_OWNER, and like the Redis store a failed release is left to lapse.
      release: async () => {
        await this.call('unlock', () => {
          if (this.live(this.locks, sessionId)?.value === owner) this.locks.delete(sessionId);
        }).catch(() => undefined);
      },
    };
  }

  /** Who holds the refresh lock of a session now (an owner token), or null. */
  lockHolder(sessionId: string): string | null {
    return this.live(this.locks, sessionId)?.value ?? null;
  }

  firstUse(id: string, untilMs: number): Promise<FirstUse> {
    return this.call('firstUse', () => {
      const now = this.now();
      const until = this.seen.get(id);
      if (until !== undefined && until > now) return 'replayed';
      this.seen.set(id, now + Math.max(1_000, untilMs - now));
      return 'first';
    });
  }

  async ping(): Promise<void> {
    await this.call('ping', () => undefined);
  }

  countActive(): Promise<number> {
    return this.call('countActive', () => [...this.keys.keys()].filter((id) => this.live(this.keys, id)).length);
  }
}
