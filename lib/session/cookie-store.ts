/**
 * Cookie store (SPEC §5): the whole session travels in the sealed cookie, so there is nothing to
 * look up. What a stateless cookie cannot do alone is be revoked, so this process remembers ended
 * session ids, IdP session ids and subjects until those sessions would have expired anyway
 * (lib/session/revocations.ts bounds that memory). It is per process: with several replicas,
 * configure Redis for revocation that holds.
 */
import { RevocationList, type RevocationLimits } from './revocations';
import { SeenIds } from './seen-ids';
import { logoutKey, type Session } from './session';
import type { CookiePayload, FirstUse, LogoutSubject, SessionStore } from './store';

export class CookieSessionStore implements SessionStore {
  readonly kind = 'cookie' as const;
  readonly revocations: RevocationList;
  private readonly seen = new SeenIds();

  constructor(private readonly maxLifetimeMs: number, private readonly now: () => number = Date.now, limits?: RevocationLimits) {
    this.revocations = new RevocationList(limits);
  }

  private isRevoked(s: Session, now: number): boolean {
    const r = this.revocations;
    return r.covers('id', s.id, s.createdAt, now) || (s.sid !== undefined && r.covers('sid', logoutKey(s.sid, s.provider), s.createdAt, now)) || r.covers('sub', logoutKey(s.sub, s.provider), s.createdAt, now);
  }

  async create(session: Session): Promise<CookiePayload> {
    return { t: 'inline', s: session };
  }

  /** An update of a revoked session writes nothing: its new cookie would be dead anyway. */
  async update(session: Session, _current?: CookiePayload): Promise<CookiePayload | null> {
    return this.isRevoked(session, this.now()) ? null : { t: 'inline', s: session };
  }

  async load(payload: CookiePayload): Promise<Session | null> {
    if (payload.t !== 'inline') return null;
    const s = payload.s;
    const now = this.now();
    if (this.isRevoked(s, now)) return null;
    if (s.sid !== undefined) this.revocations.sawSid(logoutKey(s.sid, s.provider), s.endsAt, now);
    return s;
  }

  /** The browser's own logout: it held the cookie, so the entry is proven. */
  async delete(payload: CookiePayload): Promise<void> {
    if (payload.t !== 'inline') return;
    this.revocations.revoke('id', payload.s.id, 'proven', this.now(), payload.s.endsAt);
  }

  /**
   * A signed logout token proves itself; an unauthenticated front-channel `sid` is proven only when
   * this process has served a session with it (otherwise it may be noise from anyone).
   */
  async deleteBySubject(subject: LogoutSubject): Promise<number> {
    const now = this.now();
    const until = now + this.maxLifetimeMs;
    const sid = subject.sid && logoutKey(subject.sid, subject.provider);
    const sub = subject.sub && logoutKey(subject.sub, subject.provider);
    if (sid) this.revocations.revoke('sid', sid, subject.verified || this.revocations.isKnownSid(sid, now) ? 'proven' : 'unproven', now, until);
    if (sub) this.revocations.revoke('sub', sub, subject.verified ? 'proven' : 'unproven', now, until);
    // Which cookies exist is unknown to a stateless store; report what was recorded.
    return subject.sid || subject.sub ? 1 : 0;
  }

  async firstUse(id: string, untilMs: number): Promise<FirstUse> {
    return this.seen.firstUse(id, untilMs, this.now());
  }
}
