// The public shape of the dev IdP: options for `startIdp`, the client registration it takes, and the
// handle it returns with its counters and fault switches. Kept apart from the implementation so the
// contract that tests, the bench and `npm run dev` program against can be read in one place. Import
// these from dev/idp.ts, which re-exports them, not from here.

import type { Provider } from 'oidc-provider';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface ClientSpec {
  clientId: string;
  /** Required for the client_secret_* methods; ignored for private_key_jwt. */
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Public JWKS of the client, for private_key_jwt (OIDC_CLIENT_JWK tests). */
  jwks?: { keys: Record<string, unknown>[] };
}

export interface IdpOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1; 'localhost' = 127.0.0.1 and (if present) ::1. */
  host?: string;
  /** Host name used in the issuer URL. Tests use 127.0.0.1, `npm run dev` uses localhost. */
  issuerHost?: string;
  clients: ClientSpec[];
  /** Claims to add to (or replace in) a login's demo claims, e.g. `groups` or an unverified email (access-rule tests). */
  accountClaims?: (login: string) => Record<string, unknown>;
  /** Default 300. Small values make refresh observable. */
  accessTokenTtlSeconds?: number;
  /** Default 3600. */
  idTokenTtlSeconds?: number;
  /** Default 14 days. */
  refreshTokenTtlSeconds?: number;
  /** Default true: every refresh returns a new refresh token and a replayed one revokes the grant. */
  rotateRefreshTokens?: boolean;
  /** Advertised in `acr_values_supported` (for the `level` login parameter). */
  acrValues?: string[];
  /** Advertised in `ui_locales_supported` (for the `locale` login parameter). */
  uiLocales?: string[];
  /** Resource indicators (RFC 8707) the IdP accepts; anything else is `invalid_target`. */
  resourceIndicators?: string[];
  /** Advertise and accept PAR. Default true. */
  pushedAuthorizationRequests?: boolean;
  /** Own signing keys (private JWKs); default: one RS256 key generated per process. */
  jwks?: { keys: Record<string, unknown>[] };
}

export interface GrantCounters {
  authorizationCodeGrants: number;
  refreshGrants: number;
  authorizationCodeGrantErrors: number;
  refreshGrantErrors: number;
}

export interface GrantEvent {
  type: string;
  ok: boolean;
  /** oidc-provider error code (`invalid_grant`...) for failures. */
  error?: string;
  errorDescription?: string;
  clientId?: string;
  sub?: string;
  sid?: string;
  at: number;
}

export interface BackchannelEvent {
  clientId: string;
  sub: string;
  sid?: string;
  ok: boolean;
  error?: string;
}

export interface TokenFault {
  /** How many more token requests fail. */
  remaining: number;
  status: number;
  body: Record<string, string>;
}

export interface Idp {
  issuer: string;
  port: number;
  provider: Provider;
  /** Token-endpoint grants by type, counted from `grant.success` / `grant.error` events. */
  grants: GrantCounters;
  grantLog: GrantEvent[];
  /** Authorization requests as the relying party sent them (query or PAR body), in order. */
  authorizationRequests: Array<Record<string, string>>;
  backchannelLogouts: BackchannelEvent[];
  /** Successful RP-initiated logouts (end_session confirmations). */
  endSessions: number;
  /** Zero every counter and log. */
  reset(): void;
  /** The next `count` token requests answer `status` (default 503 temporarily_unavailable). */
  failTokenRequests(count?: number, status?: number, body?: Record<string, string>): void;
  /** Delay every token request by `ms` (0 turns it off): widens races for single-flight tests. */
  delayTokenRequests(ms: number): void;
  /**
   * Hold every token request arriving from now on until the returned function is called: a
   * refresh stays in flight for as long as a test needs (race tests). Mind the relying party's
   * own IdP timeout (Gatehouse: 5 s).
   */
  holdTokenRequests(): () => void;
  /** Token requests being held right now: poll it to know the request has reached the IdP. */
  readonly heldTokenRequests: number;
  /** IdP-initiated back-channel logout of (sub, sid) towards one client. Resolves when delivered. */
  backchannelLogout(args: { clientId: string; sub: string; sid?: string }): Promise<void>;
  /** The `sid` of the last code grant for `sub` (what a logout token or front-channel call carries). */
  lastSid(sub: string): string | undefined;
  close(): Promise<void>;
}
