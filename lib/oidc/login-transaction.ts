/**
 * One login attempt's secrets (state, nonce, PKCE verifier, target), sealed in its own cookie
 * `<prefix>.login.<id>` so several tabs can log in at once (SPEC §3, §5). The id travels in the
 * `state`, which tells the callback which cookie belongs to it.
 */
import { randomBytes } from 'node:crypto';
import { cookie, cookieNames, expired, type CookieScope, type SetCookie } from '../http/cookies';
import { seal, unseal } from '../seal';

export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Sanitised same-origin path to land on after login. */
  target: string;
  /** The redirect URI sent to the IdP; the code exchange must repeat it exactly. */
  redirectUri: string;
  maxAge?: number;
  createdAt: number;
  /**
   * The identity provider the login went to (SPEC §12): the callback checks the answer (RFC 9207
   * `iss`, the id_token's `iss`) against that provider only, the mix-up defence.
   */
  provider?: string;
}

export const LOGIN_TTL_SECONDS = 3600;
/** Older attempts kept beside a new one; more only bloat every request's cookies. */
const MAX_PENDING_LOGINS = 3;

export const newLoginId = () => randomBytes(6).toString('base64url');
export const stateFor = (loginId: string, random: string) => `${loginId}.${random}`;

export function loginIdFromState(state: string | null): string | null {
  const id = state?.split('.', 1)[0];
  return id && /^[A-Za-z0-9_-]{8}$/.test(id) ? id : null;
}

/** The new attempt's cookie, plus expiry of the oldest pending attempts beyond the bound. */
export async function loginCookies(tx: LoginTransaction, loginId: string, existing: Map<string, string>, scope: CookieScope, secrets: readonly string[]): Promise<SetCookie[]> {
  const names = cookieNames(scope.prefix);
  const pending = [...existing.keys()].filter((name) => name.startsWith(names.loginPrefix));
  // Browsers send cookies oldest first (same path), so the first ones are the stalest attempts.
  const stale = pending.slice(0, Math.max(0, pending.length - MAX_PENDING_LOGINS));
  const sealed = await seal('login', tx, secrets, LOGIN_TTL_SECONDS);
  return [...stale.map((name) => expired(name, scope)), cookie(names.login(loginId), sealed, scope, LOGIN_TTL_SECONDS)];
}

export async function readLoginTransaction(cookies: Map<string, string>, loginId: string, prefix: string, secrets: readonly string[]): Promise<LoginTransaction | null> {
  const sealed = cookies.get(cookieNames(prefix).login(loginId));
  return sealed ? unseal<LoginTransaction>('login', sealed, secrets, LOGIN_TTL_SECONDS) : null;
}
