/**
 * The gate (SPEC §4 items 1–2), once for every kind of request that is not `/oauth2/*`: pages
 * (proxy.ts), upstream routes and WebSocket upgrades (lib/server/dispatch.ts). It reads the
 * session (refreshed when due), applies auto-login, and returns what to do as data; the callers
 * only write it out.
 */
import { gateOutcome, type GateOutcome } from './gate';
import type { Gatehouse } from './gatehouse';
import { cookieScope, parseCookies, type SetCookie } from './http/cookies';
import { resolveSession } from './session/resolve';
import { log } from './log';
import type { Session } from './session/session';
import type { SessionRefusal } from './session/admission';

export interface GateInput {
  cookieHeader: string | null | undefined;
  /** Ingress path ('' for the root). */
  basePath: string;
  /** Path below the ingress, decoded and normalised. */
  decodedPath: string;
  /** Path and query as the browser should come back to after login (ingress path included). */
  returnTo: string;
  navigation: boolean;
  /** The request goes to an upstream (its own public files are not Gatehouse's). */
  upstream: boolean;
  /** Forward-auth (SPEC §3 `/oauth2/auth`): no session is never a pass, whatever AUTO_LOGIN says. */
  requireSession?: boolean;
  now: number;
}

export type GateAnswer = GateOutcome & {
  /** The valid session of this request, or null (also when the access rules refuse it). */
  session: Session | null;
  /** Cookies for the browser (a refreshed cookie session, a cleared cookie); never for an upstream. */
  setCookies: SetCookie[];
};

export async function gateRequest(gh: Gatehouse, r: GateInput): Promise<GateAnswer> {
  const resolved = await resolveSession(gh, parseCookies(r.cookieHeader), cookieScope(gh.config, r.basePath), r.now);
  const denied = accessDenied(resolved.refused);
  const outcome = gateOutcome(gh.config, {
    decodedPath: r.decodedPath,
    returnTo: r.returnTo,
    basePath: r.basePath,
    navigation: r.navigation,
    hasSession: resolved.session !== null || denied !== null,
    upstream: r.upstream,
    denied,
    requireSession: r.requireSession,
  });
  // A refused session is nobody's: resolveSession gives no session for it, so no caller can forward its token.
  return { ...outcome, session: resolved.session, setCookies: resolved.setCookies };
}

/**
 * SPEC §12: a stored session is checked against the configuration of this process
 * (lib/session/admission.ts, before any refresh), so a restart with new rules locks out sessions
 * made under the old ones (the session itself is kept: if the rules change back, it works again),
 * and a session of a provider no longer configured is no session.
 */
function accessDenied(refused: SessionRefusal | null | undefined) {
  if (refused?.kind === 'provider_gone') log.info('session ignored: its identity provider is no longer configured');
  if (refused?.kind !== 'access') return null;
  log.info('session refused by the access rules', { reason: refused.reason });
  return refused.reason;
}
