/**
 * The session: what Gatehouse remembers about a login (SPEC §5), and the rules that say whether
 * it is valid, inactive, or due for a refresh. Pure functions of the session, the settings and `now`.
 */
export interface Tokens {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** Epoch ms when the access token expires; 0 when the IdP did not say. */
  expiresAt: number;
  /** Epoch ms of the last token response (login or refresh). */
  refreshedAt: number;
}

export interface Session {
  id: string;
  createdAt: number;
  endsAt: number;
  /** Epoch ms of the last authenticated request, for the inactivity timeout. */
  lastSeenAt: number;
  /** The IdP's session id (`sid` claim), for front- and back-channel logout. */
  sid?: string;
  sub: string;
  /** Non-secret id_token claims shown to the app (`user` in the session JSON). */
  user: Record<string, unknown>;
  tokens: Tokens;
  /**
   * The identity provider's id with several providers (SPEC §12): refresh, logout and the logout
   * channels go to that provider. Absent with a single provider.
   */
  provider?: string;
}

export interface SessionTimings {
  inactivityTimeoutMs: number | null;
  refreshBeforeMs: number;
}

const TWO_MINUTES = 120_000;
const DEFAULT_COOLDOWN = 60_000;

/** Idle deadline, or null without an inactivity timeout. */
export const timeoutAt = (s: Session, t: SessionTimings) => (t.inactivityTimeoutMs === null ? null : s.lastSeenAt + t.inactivityTimeoutMs);

/** Active = not past its absolute end, not idle too long (SPEC §3 session JSON `active`). */
export function isActive(s: Session, t: SessionTimings, now: number): boolean {
  const idle = timeoutAt(s, t);
  return now < s.endsAt && (idle === null || now < idle);
}

/** A valid session may be used for a request: active and holding an access token (SPEC §4 item 1). */
export const isValid = (s: Session, t: SessionTimings, now: number) => isActive(s, t, now) && s.tokens.accessToken.length > 0;

/**
 * No refresh within 60 s of the last one; for short tokens (≤ 2 min) within half their lifetime,
 * so a misbehaving IdP handing out 10-second tokens cannot turn every request into a refresh.
 */
export function refreshCooldownMs(tokens: Tokens): number {
  const lifetime = tokens.expiresAt > 0 ? tokens.expiresAt - tokens.refreshedAt : Infinity;
  return lifetime <= TWO_MINUTES ? Math.floor(lifetime / 2) : DEFAULT_COOLDOWN;
}

export const cooldownEndsAt = (tokens: Tokens) => tokens.refreshedAt + refreshCooldownMs(tokens);

/** When automatic refresh is next due (epoch ms), or null when it never will be. */
export function nextAutoRefreshAt(s: Session, t: SessionTimings): number | null {
  if (!s.tokens.refreshToken || s.tokens.expiresAt === 0) return null;
  return Math.max(s.tokens.expiresAt - t.refreshBeforeMs, cooldownEndsAt(s.tokens));
}

/** SPEC §5: refresh before forwarding when the access token expires within the window. */
export function needsRefresh(s: Session, t: SessionTimings, now: number): boolean {
  const due = nextAutoRefreshAt(s, t);
  return due !== null && now >= due;
}

/**
 * A `sid` or `sub` as the logout indexes hold it (SPEC §12): with several providers scoped by the
 * provider id, since each is unique only per issuer (a logout from one must not end another's sessions).
 */
export const logoutKey = (value: string, provider: string | undefined) => (provider === undefined ? value : `${provider}\u0000${value}`);

/** Marks the session as used now; returns the same object when nothing changes. */
export const touch = (s: Session, now: number): Session => (s.lastSeenAt === now ? s : { ...s, lastSeenAt: now });
