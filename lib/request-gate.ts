/**
 * The gate (SPEC §4 items 1–2), once for every kind of request that is not `/oauth2/*`: pages
 * (proxy.ts), upstream routes and WebSocket upgrades (lib/server/dispatch.ts). It reads the
 * session (refreshed when due), applies auto-login, and returns what to do as data; the callers
 * only write it out.
 */
import { autoLogin, type GateOutcome } from './gate';
import type { Gatehouse } from './gatehouse';
import { cookieScope, parseCookies } from './http/cookies';
import { resolveSession } from './session/resolve';
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
  now: number;
}

export type GateAnswer = GateOutcome & {
  /** The valid session of this request, or null. */
  session: Session | null;
  /** Cookies for the browser (a refreshed cookie session, a cleared cookie); never for an upstream. */
  setCookies: string[];
};

export async function gateRequest(gh: Gatehouse, r: GateInput): Promise<GateAnswer> {
  const resolved = await resolveSession(gh, parseCookies(r.cookieHeader), cookieScope(gh.config, r.basePath), r.now);
  const outcome = autoLogin(gh.config, {
    decodedPath: r.decodedPath,
    returnTo: r.returnTo,
    basePath: r.basePath,
    navigation: r.navigation,
    hasSession: resolved.session !== null,
    upstream: r.upstream,
  });
  return { ...outcome, session: resolved.session, setCookies: resolved.setCookies };
}
