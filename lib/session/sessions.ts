/**
 * Reading, creating, saving and ending sessions across the two stores (SPEC §5). The configured
 * store holds new sessions; the cookie store is always there to read inline sessions and to take
 * new logins while Redis is down.
 */
import type { CookieScope, SetCookie } from '../http/cookies';
import { log } from '../log';
import { metrics } from '../metrics';
import { CookieSessionStore } from './cookie-store';
import type { Session, SessionTimings } from './session';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from './session-cookie';
import { isStoreUnavailable, type CookiePayload, type FirstUse, type LogoutSubject, type SessionLock, type SessionStore } from './store';

export type SessionLookup =
  | { state: 'none' }
  /**
   * An authentic cookie for a session that is over: past SESSION_MAX_LIFETIME, logged out, or gone
   * from its store. No session, and the answer clears the cookie (SPEC §5).
   */
  | { state: 'ended'; payload: CookiePayload }
  /** The cookie points into a store that cannot answer now: no session for this request, cookie kept. */
  | { state: 'unavailable'; payload: CookiePayload }
  | { state: 'found'; session: Session; payload: CookiePayload };

export interface SessionSettings extends SessionTimings {
  secrets: readonly string[];
  maxLifetimeMs: number;
  cookiePrefix: string;
  /** `SSO_SESSION_COOKIE_NAME` in SSO modes. */
  sessionCookieName?: string;
}

/**
 * The read path alone: what an SSO proxy has (SPEC §8, a read-only replica), and what the gate
 * and readiness need in every mode. Writes go through `Sessions`, which only a relying party holds.
 */
export type SessionReader = Pick<Sessions, 'settings' | 'primary' | 'lookup'>;

export class Sessions {
  readonly cookieStore: CookieSessionStore;
  private readonly stores: SessionStore[];

  constructor(readonly settings: SessionSettings, readonly primary: SessionStore | null) {
    this.cookieStore = primary instanceof CookieSessionStore ? primary : new CookieSessionStore(settings.maxLifetimeMs);
    this.stores = primary && primary !== this.cookieStore ? [primary, this.cookieStore] : [this.cookieStore];
  }

  private get cookieTtlSeconds() {
    return Math.ceil(this.settings.maxLifetimeMs / 1000);
  }

  async lookup(cookies: Map<string, string>, now = Date.now()): Promise<SessionLookup> {
    const payload = await readSessionCookie(cookies, this.settings.cookiePrefix, this.settings.secrets, this.cookieTtlSeconds, this.settings.sessionCookieName);
    if (!payload) return { state: 'none' };
    const store = this.storeFor(payload);
    if (!store) return { state: 'none' };
    const started = performance.now();
    try {
      const session = await store.load(payload);
      // The seal's own expiry allows a minute of clock skew, and Redis expires keys lazily: the
      // absolute end is checked here, the same way for both stores.
      return session && now < session.endsAt ? { state: 'found', session, payload } : { state: 'ended', payload };
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      metrics.storeErrors.inc({ store: store.kind });
      log.warn('session store unavailable; treating request as unauthenticated', { store: store.kind, error: (error as Error).cause as Error });
      return { state: 'unavailable', payload };
    } finally {
      metrics.storeLatency.observe({ store: store.kind }, (performance.now() - started) / 1000);
    }
  }

  /** The stored session a payload stands for now, or null when it is gone or over. */
  async reload(payload: CookiePayload, now = Date.now()): Promise<Session | null> {
    const session = await this.storeFor(payload)?.load(payload);
    return session && now < session.endsAt ? session : null;
  }

  /** The cross-replica refresh lock of the session a payload stands for, when its store has one. */
  refreshLock(session: Session, payload: CookiePayload): SessionLock | undefined {
    return this.storeFor(payload)?.refreshLock?.(session.id);
  }

  /** Replay protection, in the configured store (shared by replicas with Redis). */
  firstUse(id: string, untilMs: number): Promise<FirstUse> {
    return this.stores[0].firstUse(id, untilMs);
  }

  private storeFor(payload: CookiePayload): SessionStore | undefined {
    return this.stores.find((s) => (payload.t === 'ticket' ? s.kind === 'redis' : s.kind === 'cookie'));
  }

  /** Stores a new session; falls back to the cookie store when Redis cannot take it (SPEC §5). */
  async create(session: Session, cookies: Map<string, string>, scope: CookieScope): Promise<{ setCookies: SetCookie[]; store: 'redis' | 'cookie' }> {
    let payload: CookiePayload;
    let store = this.stores[0];
    try {
      payload = await store.create(session);
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      metrics.storeFallbacks.inc();
      log.warn('redis unavailable at login; session kept in a cookie instead', { error: (error as Error).cause as Error });
      store = this.cookieStore;
      payload = await store.create(session);
    }
    return { setCookies: await this.cookie(payload, cookies, scope), store: store.kind };
  }

  /**
   * Saves a changed session (refresh, inactivity touch). Returns the cookies to send, which are
   * none for a Redis session (its ticket does not change), or `null` when the session ended
   * meanwhile or another replica stored newer tokens: nothing was written (SessionStore.update).
   */
  async save(session: Session, payload: CookiePayload, cookies: Map<string, string>, scope: CookieScope): Promise<{ payload: CookiePayload; setCookies: SetCookie[] } | null> {
    const store = this.storeFor(payload) ?? this.cookieStore;
    const next = await store.update(session, payload);
    if (!next) return null;
    return { payload: next, setCookies: next.t === 'inline' ? await this.cookie(next, cookies, scope) : [] };
  }

  /**
   * Ends a session in its store and clears the cookie. When the store cannot be reached this
   * throws (the caller answers 503 and the cookie stays), because clearing only the cookie would
   * report a logout while a copied cookie keeps working. `bestEffort` is for sessions that are
   * being replaced or are already dead at the IdP: the cookie is cleared regardless.
   */
  async end(lookup: SessionLookup, cookies: Map<string, string>, scope: CookieScope, options: { bestEffort?: boolean } = {}): Promise<SetCookie[]> {
    if (lookup.state === 'found' || lookup.state === 'unavailable') {
      try {
        await this.storeFor(lookup.payload)?.delete(lookup.payload);
      } catch (error) {
        if (!options.bestEffort) throw error;
        log.warn('could not delete session from store; it expires on its own', { error: (error as Error).cause as Error });
      }
    }
    return clearSessionCookie(cookies, scope);
  }

  /** Front- and back-channel logout: every session of that IdP session or user, in every store. */
  async endBySubject(subject: LogoutSubject): Promise<number> {
    const counts = await Promise.all(this.stores.map((s) => s.deleteBySubject(subject)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private cookie(payload: CookiePayload, cookies: Map<string, string>, scope: CookieScope) {
    return writeSessionCookie(payload, cookies, scope, this.settings.secrets, this.cookieTtlSeconds);
  }
}
