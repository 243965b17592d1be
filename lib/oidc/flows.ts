/**
 * Protocol steps, each a thin call into openid-client, which does every check (PKCE, state,
 * nonce, RFC 9207 `iss`, id_token signature with non-repudiation checks on).
 */
import * as client from 'openid-client';
import type { Tokens } from '../session/session';

export interface AuthorizationParams {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  scopes: string[];
  /** `login` or `select_account` (SPEC §3); `login` also sends `max_age=0`. */
  prompt?: 'login' | 'select_account';
  acrValues?: string;
  uiLocales?: string;
  domainHint?: string;
  resource?: string;
}

/** Only values the IdP lists as supported are sent; otherwise the configured default (SPEC §3). */
export function supportedOr(requested: string | undefined, supported: unknown, fallback: string | undefined): string | undefined {
  if (requested && Array.isArray(supported) && supported.includes(requested)) return requested;
  return fallback;
}

/** RFC 6749 §4.1.1 with RFC 7636 PKCE (S256); pushed (RFC 9126) when the IdP advertises PAR. */
export async function authorizationUrl(configuration: client.Configuration, p: AuthorizationParams): Promise<URL> {
  const params: Record<string, string> = {
    redirect_uri: p.redirectUri,
    response_type: 'code',
    scope: ['openid', ...p.scopes].join(' '),
    state: p.state,
    nonce: p.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(p.codeVerifier),
    code_challenge_method: 'S256',
  };
  if (p.prompt) params.prompt = p.prompt;
  if (p.prompt === 'login') params.max_age = '0';
  if (p.acrValues) params.acr_values = p.acrValues;
  if (p.uiLocales) params.ui_locales = p.uiLocales;
  if (p.domainHint) params.domain_hint = p.domainHint;
  if (p.resource) params.resource = p.resource;
  return configuration.serverMetadata().pushed_authorization_request_endpoint
    ? client.buildAuthorizationUrlWithPAR(configuration, params)
    : client.buildAuthorizationUrl(configuration, params);
}

export interface LoginResult {
  tokens: Tokens;
  claims: Record<string, unknown>;
}

function toTokens(response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, now: number, previous?: Tokens): Tokens {
  const expiresIn = response.expiresIn();
  return {
    accessToken: response.access_token,
    // Refresh responses may omit the id_token and the refresh token: keep the ones we had (SPEC §5).
    idToken: response.id_token ?? previous?.idToken,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
    expiresAt: expiresIn === undefined ? 0 : now + expiresIn * 1000,
    refreshedAt: now,
  };
}

/** OIDC Core §3.1.3: the authorization response at `callbackUrl` (built from INGRESS) → tokens. */
export async function exchangeCode(
  configuration: client.Configuration,
  callbackUrl: URL,
  checks: { state: string; nonce: string; codeVerifier: string; maxAge?: number; resource?: string },
  now: number,
): Promise<LoginResult> {
  const response = await client.authorizationCodeGrant(
    configuration,
    callbackUrl,
    { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true, maxAge: checks.maxAge },
    checks.resource ? { resource: checks.resource } : undefined,
  );
  return { tokens: toTokens(response, now), claims: (response.claims() ?? {}) as Record<string, unknown> };
}

/** RFC 6749 §6. */
export async function refreshTokens(configuration: client.Configuration, previous: Tokens, now: number): Promise<Tokens> {
  const response = await client.refreshTokenGrant(configuration, previous.refreshToken!);
  return toTokens(response, now, previous);
}

/** OIDC RP-Initiated Logout §2, or null when the IdP has no end-session endpoint. */
export function endSessionUrl(configuration: client.Configuration, p: { idTokenHint?: string; postLogoutRedirectUri: string; state: string }): URL | null {
  if (!configuration.serverMetadata().end_session_endpoint) return null;
  const params: Record<string, string> = { post_logout_redirect_uri: p.postLogoutRedirectUri, state: p.state };
  if (p.idTokenHint) params.id_token_hint = p.idTokenHint;
  return client.buildEndSessionUrl(configuration, params);
}

/**
 * Whether the IdP refused the grant itself (`invalid_grant`: expired, revoked or replayed refresh
 * token). Only that ends a session; timeouts, 5xx and malformed responses are transient.
 */
export function isInvalidGrant(error: unknown): boolean {
  return error instanceof client.ResponseBodyError && error.error === 'invalid_grant';
}

/** The OAuth error code of a failed IdP call, when it has one (for logs, never for the page). */
export function idpErrorCode(error: unknown): string | undefined {
  const e = error as { error?: unknown; code?: unknown };
  return typeof e?.error === 'string' ? e.error : typeof e?.code === 'string' ? e.code : undefined;
}

export const randomState = client.randomState;
export const randomNonce = client.randomNonce;
export const randomCodeVerifier = client.randomPKCECodeVerifier;
