/**
 * When the browser should next talk to Gatehouse about the session, pure. The session JSON gives
 * relative times in whole seconds, floored by the server (SPEC §3): acting at the second it names
 * can be up to a second early, and a refresh asked for inside the cooldown changes nothing, so
 * every delay gets one second of margin.
 */
import type { SessionJson } from './types';

export type NextStep =
  /** `POST /oauth2/session/refresh`: the access token is about to expire (Gatehouse's own auto-refresh moment). */
  | { kind: 'refresh'; delayMs: number }
  /** `GET /oauth2/session`: the session ends or goes idle then, or the timer could not reach further. */
  | { kind: 'recheck'; delayMs: number };

/** The longest delay `setTimeout` keeps (a larger one fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const MARGIN_MS = 1000;

const after = (seconds: number) => seconds * 1000 + MARGIN_MS;

/**
 * The next step for a session, or null when there is none to take (no session, or an inactive
 * one: only a new login helps).
 */
export function nextStep(json: SessionJson | null): NextStep | null {
  if (!json || !json.session.active) return null;
  const { tokens, session } = json;
  const deadlines = [session.ends_in_seconds, session.timeout_in_seconds].filter((s) => s >= 0);
  const recheck = deadlines.length ? after(Math.min(...deadlines)) : Infinity;
  let refresh = Infinity;
  if (tokens.next_auto_refresh_in_seconds >= 0) {
    // next_auto_refresh already waits for the cooldown; the max guards against a server that says otherwise.
    refresh = after(Math.max(tokens.next_auto_refresh_in_seconds, tokens.refresh_cooldown ? tokens.refresh_cooldown_seconds : 0));
  }
  if (refresh === Infinity && recheck === Infinity) return null;
  if (refresh < recheck && refresh <= MAX_TIMER_MS) return { kind: 'refresh', delayMs: refresh };
  return { kind: 'recheck', delayMs: Math.min(recheck, refresh, MAX_TIMER_MS) };
}

/**
 * Backoff after a refresh or read that failed without an answer (network down, IdP unavailable:
 * 503): 5 s, 10 s, 20 s, … at most a minute.
 */
export const retryDelayMs = (failures: number) => Math.min(60_000, 5000 * 2 ** Math.max(0, failures - 1));

/** Whether two reads describe the same state (what a tab re-renders and tells the others about). */
export function sameSession(a: SessionJson | null, b: SessionJson | null): boolean {
  if (a === null || b === null) return a === b;
  return a.user.sub === b.user.sub
    && a.session.created_at === b.session.created_at
    && a.session.active === b.session.active
    && a.session.timeout_at === b.session.timeout_at
    && a.tokens.refreshed_at === b.tokens.refreshed_at
    && a.tokens.expire_at === b.tokens.expire_at;
}
