/**
 * The session of one request, ready to use (SPEC §4 item 1): read, replaced by newer tokens this
 * process already has, refreshed when due, and marked as used for the inactivity timeout.
 */
import type { CookieScope, SetCookie } from '../http/cookies';
import type { Gatehouse } from '../gatehouse';
import { log } from '../log';
import type { SessionRefusal } from './admission';
import { current } from './current';
import { needsRefresh, touch, type Session } from './session';
import type { SessionLookup } from './sessions';
import type { CookiePayload } from './store';

export interface ResolvedSession {
  lookup: SessionLookup;
  /** A valid session for this request, or null. */
  session: Session | null;
  payload: CookiePayload | null;
  /** Cookies the browser must receive (a refreshed cookie session, or a cleared cookie). */
  setCookies: SetCookie[];
  /** A stored session this process refuses (lib/session/admission.ts); `session` is then null. */
  refused?: SessionRefusal | null;
}

/** Writing on every request would cost a store write each; a few seconds of slack is enough. */
const touchInterval = (timeoutMs: number) => Math.min(60_000, Math.max(1_000, timeoutMs / 20));

export async function resolveSession(gh: Gatehouse, cookies: Map<string, string>, scope: CookieScope, now: number): Promise<ResolvedSession> {
  const found = await current(gh, cookies, now);
  const { lookup } = found;
  // SPEC §8: an SSO proxy is a read-only replica, and has no write path at all (lib/gatehouse.ts).
  // The server refreshes and extends sessions; a proxy never writes one (no refresh, no inactivity
  // touch, no cookie) and has the session as it is.
  const rp = gh.relyingParty;
  if (rp === null) return { lookup, session: found.valid ? found.session : null, payload: found.session ? found.lookup.payload : null, setCookies: [], refused: found.refused };
  const { sessions, refresher } = rp;
  if (lookup.state === 'ended') return { lookup, session: null, payload: null, setCookies: await sessions.end(lookup, cookies, scope) };
  if (found.session === null) return { lookup, session: null, payload: null, setCookies: [] };
  let { session } = found;
  let { payload } = found.lookup;
  let setCookies: SetCookie[] = [];
  // Newer tokens than the cookie's: the browser gets a cookie with them.
  let dirty = session !== found.lookup.session;
  // Refused or not valid: never refreshed (a refused person's tokens are not renewed at the IdP).
  if (!found.valid) return { lookup, session: null, payload, setCookies, refused: found.refused };
  const timings = sessions.settings;

  if (needsRefresh(session, timings, now)) {
    const outcome = await refresher.refresh(session, payload, cookies, scope);
    if (outcome.status === 'ended') return { lookup, session: null, payload: null, setCookies: outcome.setCookies };
    ({ session, payload } = outcome);
    setCookies = outcome.setCookies;
    dirty = outcome.status === 'unchanged' && dirty;
  }

  const idle = timings.inactivityTimeoutMs;
  if (idle !== null && now - session.lastSeenAt >= touchInterval(idle)) {
    session = touch(session, now);
    dirty = true;
  }
  if (dirty) {
    try {
      const saved = await sessions.save(session, payload, cookies, scope);
      if (saved) {
        payload = saved.payload;
        setCookies = saved.setCookies;
      } else {
        // Ended meanwhile (a logout on another request or replica), or newer tokens were stored.
        const stored = await sessions.reload(payload, now);
        if (!stored) return { lookup, session: null, payload: null, setCookies: await sessions.end({ state: 'ended', payload }, cookies, scope) };
        session = stored;
      }
    } catch (error) {
      log.warn('could not save session activity', { error: error as Error });
    }
  }
  return { lookup, session, payload, setCookies };
}
