/**
 * The gate's decision (SPEC §4 item 2, §12): who may pass without a session (auto-login), and
 * whether a session's person is admitted by the access rules. Pure: the caller supplies whether
 * there is a valid session, whether the rules deny it, and whether the request is a navigation.
 */
import type { AccessDenial } from './access-rules';
import type { Config } from './config';
import { compileGlobs, isAlwaysPublic } from './url/paths';
import { loginPath, signInPath } from './routes';

export type GateOutcome =
  | { kind: 'pass' }
  /** A navigation: 302 to login, coming back to where it was going. */
  | { kind: 'login'; location: string }
  /** Anything else: 401 JSON with `login_url`, and the same URL in `Location`. */
  | { kind: 'unauthenticated'; loginUrl: string }
  /** A valid session whose claims fail the access rules: 403, the upstream never sees it. */
  | { kind: 'forbidden'; reason: AccessDenial };

const matchers = new WeakMap<Config, (path: string) => boolean>();

/** ERROR_PATH is a path on the host; it may or may not sit under the ingress path. */
const isErrorPath = (config: Config, r: GateRequest) => config.errorPath !== undefined && (r.decodedPath === config.errorPath || r.basePath + r.decodedPath === config.errorPath);

/**
 * `AUTO_LOGIN_IGNORE_PATHS`, and on Gatehouse's own app also its public files. On an upstream route
 * (sidecar `/=` included) only the configured globs count: `/_next/image` or `/favicon.ico` of a
 * protected app behind Gatehouse are that app's, and may serve its private data.
 */
function isIgnored(config: Config, r: GateRequest): boolean {
  let ignored = matchers.get(config);
  if (!ignored) {
    ignored = compileGlobs(config.autoLoginIgnorePaths);
    matchers.set(config, ignored);
  }
  return (!r.upstream && isAlwaysPublic(r.decodedPath)) || ignored(r.decodedPath);
}

export interface GateRequest {
  /** Path below the ingress, decoded and normalised. */
  decodedPath: string;
  /** Full path and query as the browser should come back to (ingress path included). */
  returnTo: string;
  basePath: string;
  navigation: boolean;
  hasSession: boolean;
  /** The path goes to an upstream, not to Gatehouse's own Next app. */
  upstream: boolean;
  /** The session's claims fail the access rules (lib/access-rules.ts); only with a session. */
  denied?: AccessDenial | null;
  /** A session is required whatever AUTO_LOGIN and its ignored paths say (forward-auth, SPEC §3). */
  requireSession?: boolean;
}

export function autoLogin(config: Config, r: GateRequest): GateOutcome {
  if (r.hasSession) return { kind: 'pass' };
  if (!r.requireSession && (!config.autoLogin || isErrorPath(config, r) || isIgnored(config, r))) return { kind: 'pass' };
  // SPEC §12: with several identity providers the person chooses one first.
  const loginUrl = (config.providers.length > 1 ? signInPath : loginPath)(r.basePath, r.returnTo);
  return r.navigation ? { kind: 'login', location: loginUrl } : { kind: 'unauthenticated', loginUrl };
}

/**
 * The whole decision: a denied session is refused before anything else (on every path, ignored
 * ones included: the rules say this person may not use the service), then auto-login.
 */
export function gateOutcome(config: Config, r: GateRequest): GateOutcome {
  if (r.hasSession && r.denied) return { kind: 'forbidden', reason: r.denied };
  return autoLogin(config, r);
}

export const unauthenticatedBody = (loginUrl: string) => JSON.stringify({ error: 'unauthenticated', login_url: loginUrl });
