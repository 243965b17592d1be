/**
 * Cookie store (SPEC §5): the whole session travels in the sealed cookie, so there is nothing to
 * look up. What a stateless cookie cannot do alone is be revoked, so this process remembers ended
 * session ids, IdP session ids and subjects until those sessions would have expired anyway. That
 * memory is per process: with several replicas, configure Redis for revocation that holds.
 */
import type { Session } from './session';
import type { CookiePayload, LogoutSubject, SessionStore } from './store';

/** Bound on remembered revocations; past it the oldest are forgotten first. */
const MAX_REVOCATIONS = 100_000;

class RevocationList {
  private readonly until = new Map<string, { revokedAt: number; until: number }>();

  add(key: string, now: number, until: number) {
    this.until.delete(key);
    this.until.set(key, { revokedAt: now, until });
    if (this.until.size > MAX_REVOCATIONS) this.until.delete(this.until.keys().next().value!);
  }

  /** Revoked when an entry exists that was made after `createdAt` and has not lapsed. */
  covers(key: string, createdAt: number, now: number): boolean {
    const entry = this.until.get(key);
    if (!entry) return false;
    if (entry.until <= now) {
      this.until.delete(key);
      return false;
    }
    return entry.revokedAt >= createdAt;
  }
}

export class CookieSessionStore implements SessionStore {
  readonly kind = 'cookie' as const;
  private readonly revoked = new RevocationList();

  constructor(private readonly maxLifetimeMs: number, private readonly now: () => number = Date.now) {}

  async save(session: Session): Promise<CookiePayload> {
    return { t: 'inline', s: session };
  }

  async load(payload: CookiePayload): Promise<Session | null> {
    if (payload.t !== 'inline') return null;
    const s = payload.s;
    const now = this.now();
    const revoked =
      this.revoked.covers(`id:${s.id}`, s.createdAt, now) ||
      (s.sid !== undefined && this.revoked.covers(`sid:${s.sid}`, s.createdAt, now)) ||
      this.revoked.covers(`sub:${s.sub}`, s.createdAt, now);
    return revoked ? null : s;
  }

  async delete(payload: CookiePayload): Promise<void> {
    if (payload.t !== 'inline') return;
    this.revoked.add(`id:${payload.s.id}`, this.now(), payload.s.endsAt);
  }

  async deleteBySubject(subject: LogoutSubject): Promise<number> {
    const now = this.now();
    const until = now + this.maxLifetimeMs;
    if (subject.sid) this.revoked.add(`sid:${subject.sid}`, now, until);
    if (subject.sub) this.revoked.add(`sub:${subject.sub}`, now, until);
    // Which cookies exist is unknown to a stateless store; report what was recorded.
    return subject.sid || subject.sub ? 1 : 0;
  }
}
