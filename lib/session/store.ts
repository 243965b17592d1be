/**
 * The storage boundary (SPEC §5). A browser's session cookie holds a sealed `CookiePayload`:
 * either a ticket pointing into Redis (id + per-session data key) or, for the cookie store and the
 * Redis-down fallback, the whole session. Each store loads and saves the payloads it understands.
 */
import type { Session } from './session';

export interface Ticket { t: 'ticket'; id: string; key: string }
export interface InlineSession { t: 'inline'; s: Session }
export type CookiePayload = Ticket | InlineSession;

/** Who a front- or back-channel logout is about; `verified` when a signed logout token said so. */
export interface LogoutSubject {
  sid?: string;
  sub?: string;
  verified: boolean;
  /** The identity provider that sent the logout, as sessions record it (`Session.provider`). */
  provider?: string;
}

/** Thrown when the backing service cannot answer in time; callers treat it as "no session now". */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('session store unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}

/**
 * By name, not `instanceof`: the server and Next's bundles each hold a copy of this module, and
 * the shared stores throw the server's copy.
 */
export const isStoreUnavailable = (error: unknown) => (error as Error | undefined)?.name === 'StoreUnavailableError';

/**
 * Mutual exclusion around one session's refresh across replicas (Wonderwall's `Store.MakeLock`):
 * an IdP that rotates refresh tokens revokes the whole grant when a used one is replayed.
 */
export interface SessionLock {
  /** True when this caller holds the lock now, false while another does. */
  tryAcquire(): Promise<boolean>;
  /** Releases it if this caller still holds it (a lapsed lock may belong to someone else by now). */
  release(): Promise<void>;
}

/** `firstUse`'s answer: seen for the first time, seen before, or no room to remember it (refuse). */
export type FirstUse = 'first' | 'replayed' | 'full';

export interface SessionStore {
  readonly kind: 'redis' | 'cookie';
  /** Stores a new session; returns what the session cookie must hold. */
  create(session: Session): Promise<CookiePayload>;
  /**
   * Stores a changed session (refresh, inactivity touch) under the payload the cookie holds now.
   * Written only while the session still exists and holds no newer tokens than these, so a
   * refresh or touch in flight never brings back a session a logout ended (SPEC §5), nor
   * overwrites another replica's refresh. `null`: nothing was written.
   */
  update(session: Session, current: CookiePayload): Promise<CookiePayload | null>;
  /** The session a payload stands for, or null when it is gone, revoked or not this store's. */
  load(payload: CookiePayload): Promise<Session | null>;
  /** Ends the session a payload stands for: a replayed cookie must read as "no session" afterwards. */
  delete(payload: CookiePayload): Promise<void>;
  /** Ends every session of an IdP session (`sid`) or user (`sub`); returns how many. */
  deleteBySubject(subject: LogoutSubject): Promise<number>;
  /**
   * The refresh lock of a stored session. None for the cookie store: a cookie session travels
   * with its browser, and the refresher already runs one grant per session in each process.
   */
  refreshLock?(sessionId: string): SessionLock;
  /**
   * Replay protection (a back-channel logout token's `jti`): remembers `id` until `untilMs` and
   * says whether it was new. Shared by replicas in Redis; in this process for the cookie store.
   */
  firstUse(id: string, untilMs: number): Promise<FirstUse>;
  /** Resolves when the backing service answers now (readiness); none for a store that has none. */
  ping?(): Promise<void>;
  /** How many sessions the store holds (`gatehouse_sessions_active`), where it can tell. */
  countActive?(): Promise<number>;
}
