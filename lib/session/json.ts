/**
 * The session JSON of `GET /oauth2/session` (SPEC §3): Wonderwall's field names and order, plus
 * `user`. Never a token.
 */
import { cooldownEndsAt, isActive, nextAutoRefreshAt, timeoutAt, type Session, type SessionTimings } from './session';

const ZERO_TIME = '0001-01-01T00:00:00Z';
const iso = (ms: number) => new Date(ms).toISOString();
const secondsUntil = (ms: number, now: number) => Math.max(0, Math.floor((ms - now) / 1000));

export function sessionJson(s: Session, t: SessionTimings, now: number) {
  const idle = timeoutAt(s, t);
  const next = nextAutoRefreshAt(s, t);
  const cooldownEnd = cooldownEndsAt(s.tokens);
  return {
    session: {
      created_at: iso(s.createdAt),
      ends_at: iso(s.endsAt),
      timeout_at: idle === null ? ZERO_TIME : iso(idle),
      ends_in_seconds: secondsUntil(s.endsAt, now),
      active: isActive(s, t, now),
      timeout_in_seconds: idle === null ? -1 : secondsUntil(idle, now),
      // SPEC §12: the last field of `session`, only with several providers.
      ...(s.provider === undefined ? {} : { provider: s.provider }),
    },
    tokens: {
      expire_at: s.tokens.expiresAt ? iso(s.tokens.expiresAt) : ZERO_TIME,
      refreshed_at: iso(s.tokens.refreshedAt),
      expire_in_seconds: s.tokens.expiresAt ? secondsUntil(s.tokens.expiresAt, now) : -1,
      next_auto_refresh_in_seconds: next === null ? -1 : secondsUntil(next, now),
      refresh_cooldown: now < cooldownEnd,
      refresh_cooldown_seconds: secondsUntil(cooldownEnd, now),
    },
    user: { sub: s.sub, ...s.user },
  };
}
