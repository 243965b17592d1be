/**
 * The gate (SPEC §4 items 1–2), once for every kind of request that is not `/oauth2/*`: pages
 * (proxy.ts), upstream routes and WebSocket upgrades (lib/server/dispatch.ts). It reads the
 * session (refreshed when due), applies auto-login, and returns what to do as data; the callers
 * only write it out.
 */
import { accessDenial, hasAccessRules } from './access-rules';
import { gateOutcome, type GateOutcome } from './gate';
import type { Gatehouse } from './gatehouse';
import { cookieScope, parseCookies } from './http/cookies';
import { resolveSession } from './session/resolve';
import { log } from './log';
import type { Session } from './session/session';

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
  setCookies: string[];
};

export async function gateRequest(gh: Gatehouse, r: GateInput): Promise<GateAnswer> {
  const resolved = await resolveSession(gh, parseCookies(r.cookieHeader), cookieScope(gh.config, r.basePath), r.now);
  const denied = resolved.session ? sessionDenial(gh, resolved.session) : null;
  const outcome = gateOutcome(gh.config, {
    decodedPath: r.decodedPath,
    returnTo: r.returnTo,
    basePath: r.basePath,
    navigation: r.navigation,
    hasSession: resolved.session !== null,
    upstream: r.upstream,
    denied,
    requireSession: r.requireSession,
  });
  // A refused session is nobody's: no caller can forward its token by mistake.
  return { ...outcome, session: denied ? null : resolved.session, setCookies: resolved.setCookies };
}

/**
 * SPEC §12: a stored session checked against the rules of this process, so a restart with new
 * rules locks out sessions made under the old ones (the session itself is kept: if the rules
 * change back, it works again).
 */
function sessionDenial(gh: Gatehouse, session: Session) {
  if (!hasAccessRules(gh.config.access)) return null;
  const denied = accessDenial(gh.config.access, { ...session.user, sub: session.sub });
  if (denied) log.info('session refused by the access rules', { reason: denied });
  return denied;
}
