/**
 * "The current session" of a request, worked out once for every caller (the gate, the session
 * API, getSession(), login and callback): the cookie read through its store, with the newer tokens
 * this process already refreshed a cookie session to (the browser may still send the old cookie,
 * whose refresh token rotation may have revoked), and whether it is valid now. Read-only: the gate
 * (lib/session/resolve.ts) is what refreshes and touches.
 */
import type { Gatehouse } from '../gatehouse';
import { sessionRefusal, type SessionRefusal } from './admission';
import { isValid, type Session } from './session';
import type { SessionLookup } from './sessions';

export type Current =
  /** No usable session for this request (`lookup` says why: none, ended, store unavailable). */
  | { lookup: Exclude<SessionLookup, { state: 'found' }>; session: null; valid: false; refused: null }
  /**
   * A session; `valid` is false when it is inactive, has no access token (SPEC §4 item 1) or is
   * `refused` under this process's configuration (lib/session/admission.ts): a refused session is
   * never used, refreshed or shown.
   */
  | { lookup: Extract<SessionLookup, { state: 'found' }>; session: Session; valid: boolean; refused: SessionRefusal | null };

export async function current(gh: Gatehouse, cookies: Map<string, string>, now: number): Promise<Current> {
  const lookup = await gh.sessions.lookup(cookies, now);
  if (lookup.state !== 'found') return { lookup, session: null, valid: false, refused: null };
  // An SSO proxy refreshes nothing, so it holds no newer tokens (SPEC §8).
  const session = (lookup.payload.t === 'inline' && gh.relyingParty?.refresher.newerThan(lookup.session)) || lookup.session;
  const refused = sessionRefusal(gh.config, session);
  return { lookup, session, valid: refused === null && isValid(session, gh.sessions.settings, now), refused };
}
