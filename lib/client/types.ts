/**
 * The session JSON of `GET /oauth2/session` and `POST /oauth2/session/refresh` as the browser
 * receives it (SPEC §3, Wonderwall's field names). It never carries a token: the access token stays
 * on the server, and `tokens` only says when it expires and when it will be refreshed.
 */

export interface SessionTimes {
  /** RFC 3339 timestamps. */
  created_at: string;
  ends_at: string;
  /** `0001-01-01T00:00:00Z` without an inactivity timeout. */
  timeout_at: string;
  ends_in_seconds: number;
  /** false: the session is still stored but idle past `SESSION_INACTIVITY_TIMEOUT`; it cannot be used. */
  active: boolean;
  /** -1 without an inactivity timeout. */
  timeout_in_seconds: number;
  /** With several identity providers (SPEC §12): the one this session came from. */
  provider?: string;
}

/** When the access token expires and when Gatehouse refreshes it; never the token itself. */
export interface TokenTiming {
  expire_at: string;
  refreshed_at: string;
  /** -1 when the IdP did not say when the token expires. */
  expire_in_seconds: number;
  /** -1 when the token is never refreshed (no refresh token, or no expiry). */
  next_auto_refresh_in_seconds: number;
  refresh_cooldown: boolean;
  refresh_cooldown_seconds: number;
}

/** `sub` and the non-secret id_token claims (name, email, preferred_username, …). */
export interface SessionUser {
  sub: string;
  name?: string;
  email?: string;
  preferred_username?: string;
  [claim: string]: unknown;
}

export interface SessionJson {
  session: SessionTimes;
  tokens: TokenTiming;
  user: SessionUser;
}

/** True for a value shaped like the session JSON (a proxy or an error page answers otherwise). */
export function isSessionJson(value: unknown): value is SessionJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
  return obj(v.session) && obj(v.tokens) && obj(v.user) && typeof v.user.sub === 'string'
    && typeof v.session.active === 'boolean' && typeof v.tokens.next_auto_refresh_in_seconds === 'number';
}
