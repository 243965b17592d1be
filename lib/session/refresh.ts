/**
 * Token refresh that never logs anyone out (SPEC §5). One refresh grant per session at a time: in
 * this process through a shared promise, across replicas through the store's lock followed by a
 * re-read (Redis; a cookie session has no other holder), because an IdP that rotates refresh tokens revokes the whole grant when a used one is
 * replayed. The old refresh token is kept when none comes back; `invalid_grant` ends the session;
 * any other failure keeps the old tokens until they expire.
 */
import type { CookieScope, SetCookie } from '../http/cookies';
import { log } from '../log';
import { metrics } from '../metrics';
import { cooldownEndsAt, type Session, type Tokens } from './session';
import type { Sessions } from './sessions';
import type { CookiePayload, SessionLock } from './store';

export type RefreshOutcome =
  | { status: 'refreshed' | 'unchanged'; session: Session; payload: CookiePayload; setCookies: SetCookie[] }
  /** The IdP rejected the refresh token: the session is over. */
  | { status: 'ended'; setCookies: SetCookie[] };

/** Calls the IdP: `rejected` means the grant is dead, `unavailable` means try again later. */
export type RefreshGrant = (tokens: Tokens, session: Session) => Promise<{ ok: true; tokens: Tokens } | { ok: false; reason: 'rejected' | 'unavailable' }>;

/** How long a replica waits for another replica's refresh before going on with what it has. */
export const WAIT_FOR_PEER_MS = 10_000;
const POLL_MS = 25;

const MAX_NEWEST = 10_000;
const MAX_NEWEST_BYTES = 32 * 1024 * 1024;
const sizeOf = (s: Session) => 512 + s.tokens.accessToken.length + (s.tokens.idToken?.length ?? 0) + (s.tokens.refreshToken?.length ?? 0);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Refresher {
  private readonly inFlight = new Map<string, Promise<RefreshOutcome>>();
  /** Cookie sessions: the newest tokens per session id, for requests still carrying the old cookie. */
  private readonly newest = new Map<string, Session>();
  private newestBytes = 0;

  constructor(
    private readonly sessions: Sessions,
    private readonly grant: RefreshGrant,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A cookie session may be older than what this process already refreshed it to; prefer the
   * newer tokens (the old refresh token may be revoked by rotation already).
   */
  newerThan(session: Session): Session | null {
    const newer = this.newest.get(session.id);
    if (!newer) return null;
    if (newer.endsAt <= this.now()) {
      this.newest.delete(session.id);
      return null;
    }
    return newer.tokens.refreshedAt > session.tokens.refreshedAt ? newer : null;
  }

  /** Refreshes unless in cooldown; concurrent callers for one session share one grant. */
  refresh(session: Session, payload: CookiePayload, cookies: Map<string, string>, scope: CookieScope): Promise<RefreshOutcome> {
    const running = this.inFlight.get(session.id);
    if (running) return running;
    const started = this.run(session, payload, cookies, scope).finally(() => this.inFlight.delete(session.id));
    this.inFlight.set(session.id, started);
    return started;
  }

  private async run(session: Session, payload: CookiePayload, cookies: Map<string, string>, scope: CookieScope): Promise<RefreshOutcome> {
    const lock = this.sessions.refreshLock(session, payload);
    if (lock) return this.runLocked(lock, session, payload, cookies, scope);
    return this.grantAndSave(session, payload, cookies, scope);
  }

  private async runLocked(lock: SessionLock, session: Session, payload: CookiePayload, cookies: Map<string, string>, scope: CookieScope): Promise<RefreshOutcome> {
    const deadline = this.now() + WAIT_FOR_PEER_MS;
    try {
      while (this.now() < deadline) {
        if (await lock.tryAcquire()) {
          try {
            // Another replica may have refreshed between our read and the lock.
            const current = await this.sessions.reload(payload);
            if (!current) return { status: 'ended', setCookies: [] };
            if (current.tokens.refreshedAt > session.tokens.refreshedAt || this.now() < cooldownEndsAt(current.tokens)) {
              return { status: 'unchanged', session: current, payload, setCookies: [] };
            }
            return await this.grantAndSave(current, payload, cookies, scope);
          } finally {
            await lock.release();
          }
        }
        await pause(POLL_MS);
        const current = await this.sessions.reload(payload);
        if (!current) return { status: 'ended', setCookies: [] };
        if (current.tokens.refreshedAt > session.tokens.refreshedAt) return { status: 'unchanged', session: current, payload, setCookies: [] };
      }
    } catch (error) {
      log.warn('refresh lock unavailable; keeping current tokens', { error: error as Error });
      metrics.refreshes.inc({ outcome: 'store_unavailable' });
    }
    return { status: 'unchanged', session, payload, setCookies: [] };
  }

  private async grantAndSave(session: Session, payload: CookiePayload, cookies: Map<string, string>, scope: CookieScope): Promise<RefreshOutcome> {
    const result = await this.grant(session.tokens, session);
    if (!result.ok) {
      metrics.refreshes.inc({ outcome: result.reason });
      if (result.reason === 'rejected') {
        log.info('refresh token rejected by the IdP; ending session');
        const setCookies = await this.sessions.end({ state: 'found', session, payload }, cookies, scope, { bestEffort: true });
        return { status: 'ended', setCookies };
      }
      log.warn('refresh failed; keeping current tokens until they expire');
      return { status: 'unchanged', session, payload, setCookies: [] };
    }
    metrics.refreshes.inc({ outcome: 'success' });
    const refreshed: Session = { ...session, tokens: result.tokens, lastSeenAt: this.now() };
    if (payload.t === 'inline') this.remember(refreshed);
    try {
      const saved = await this.sessions.save(refreshed, payload, cookies, scope);
      if (saved) return { status: 'refreshed', session: refreshed, payload: saved.payload, setCookies: saved.setCookies };
      // Ended while the grant was under way (a logout on any channel), or another replica stored
      // newer tokens: the store decides, and a logout stays a logout.
      const stored = await this.sessions.reload(payload);
      if (!stored) return { status: 'ended', setCookies: await this.sessions.end({ state: 'ended', payload }, cookies, scope) };
      return { status: 'unchanged', session: stored, payload, setCookies: [] };
    } catch (error) {
      // The new tokens still serve this request; the stored ones stay usable until they expire.
      log.warn('could not store refreshed tokens', { error: error as Error });
      return { status: 'refreshed', session: refreshed, payload, setCookies: [] };
    }
  }

  /** Bounded in entries and in bytes (tokens dominate a session's size): oldest forgotten first. */
  private remember(session: Session) {
    const previous = this.newest.get(session.id);
    if (previous) this.newestBytes -= sizeOf(previous);
    this.newest.delete(session.id);
    this.newest.set(session.id, session);
    this.newestBytes += sizeOf(session);
    while (this.newest.size > MAX_NEWEST || this.newestBytes > MAX_NEWEST_BYTES) {
      const [id, oldest] = this.newest.entries().next().value!;
      this.newest.delete(id);
      this.newestBytes -= sizeOf(oldest);
    }
  }
}
