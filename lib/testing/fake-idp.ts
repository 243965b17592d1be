/**
 * An OpenID Provider in memory, for unit tests of the actions: openid-client's `Configuration` is
 * built from static metadata (no discovery), and its `customFetch` answers the token endpoint and
 * the JWKS here, so openid-client still does every check (PKCE, state, nonce, RFC 9207 `iss`, the
 * id_token's signature with non-repudiation checks on) against real signed tokens.
 *
 * `authorize(url)` plays the browser at the authorization endpoint: it records the request and
 * returns the callback URL with a code. Refresh answers follow `refreshAnswer`; refresh tokens
 * rotate, and a used one replayed is `invalid_grant` (as an IdP with rotation answers).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type RefreshAnswer = 'ok' | 'rejected' | 'unavailable';

interface PendingCode { clientId: string; redirectUri: string; nonce?: string; challenge: string; claims: Record<string, unknown>; scope: string }

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let issued = 0;

export interface FakeIdpOptions {
  /** Default: an issuer of its own. The same as another's: an impostor claiming to be that IdP. */
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  /** Access token lifetime in seconds. */
  expiresIn?: number;
  /** Claims of the person who logs in (`sub`, `sid`, `email`, …). */
  user?: Record<string, unknown>;
}

export class FakeIdp {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  expiresIn: number;
  user: Record<string, unknown>;
  refreshAnswer: RefreshAnswer = 'ok';
  /** Token endpoint calls by grant type. */
  readonly grants = { authorization_code: 0, refresh_token: 0 };
  /** The authorization requests `authorize` saw, newest last. */
  readonly authorizations: URLSearchParams[] = [];
  private readonly codes = new Map<string, PendingCode>();
  private readonly refreshTokens = new Map<string, { used: boolean }>();
  private readonly kid = `key-${randomBytes(4).toString('hex')}`;

  private constructor(private readonly privateKey: CryptoKey, private readonly publicJwk: JWK, options: FakeIdpOptions) {
    // Each its own issuer: openid-client and jose caches keyed by issuer or JWKS URL never mix two.
    this.issuer = options.issuer ?? `https://idp-${++issued}.test`;
    this.clientId = options.clientId ?? 'gatehouse-client';
    this.clientSecret = options.clientSecret ?? 'gatehouse-secret';
    this.expiresIn = options.expiresIn ?? 300;
    this.user = options.user ?? { sub: 'alice', sid: 'idp-session-1', email: 'alice@example.com', name: 'Alice' };
  }

  static async start(options: FakeIdpOptions = {}): Promise<FakeIdp> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new FakeIdp(privateKey, await exportJWK(publicKey), options);
  }

  get metadata(): client.ServerMetadata {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/auth`,
      token_endpoint: `${this.issuer}/token`,
      jwks_uri: `${this.issuer}/jwks`,
      end_session_endpoint: `${this.issuer}/session/end`,
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      frontchannel_logout_supported: true,
    };
  }

  get jwks() {
    return { keys: [{ ...this.publicJwk, kid: this.kid, alg: 'ES256', use: 'sig' }] };
  }

  /** The configuration Gatehouse would have after discovery, talking to this IdP only. */
  configuration(): client.Configuration {
    const configuration = new client.Configuration(this.metadata, this.clientId, { client_secret: this.clientSecret }, client.ClientSecretBasic(this.clientSecret));
    client.enableNonRepudiationChecks(configuration);
    configuration[client.customFetch] = this.fetch;
    return configuration;
  }

  /** What the IdP answers over HTTP: the token endpoint and the JWKS. Any other URL is a test bug. */
  readonly fetch = async (url: string, options: { body?: unknown; headers?: Record<string, string> | Headers; method?: string }): Promise<Response> => {
    const { pathname, origin } = new URL(url);
    if (origin !== this.issuer) throw new TypeError(`fetch failed: ${url} is not the fake IdP`);
    if (pathname === '/jwks') return Response.json(this.jwks);
    if (pathname === '/token' && options.method === 'POST') return this.token(new URLSearchParams(String(options.body)), new Headers(options.headers));
    return new Response('not found', { status: 404 });
  };

  /** The browser at the authorization endpoint: the person logs in, the IdP redirects back with a code. */
  authorize(authorizationUrl: string | URL): URL {
    const url = new URL(authorizationUrl);
    if (`${url.origin}${url.pathname}` !== this.metadata.authorization_endpoint) throw new Error(`not this IdP's authorization endpoint: ${url.href}`);
    const q = url.searchParams;
    this.authorizations.push(q);
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) throw new Error('authorization request without PKCE S256');
    const code = randomBytes(16).toString('base64url');
    this.codes.set(code, { clientId: q.get('client_id')!, redirectUri: q.get('redirect_uri')!, nonce: q.get('nonce') ?? undefined, challenge: q.get('code_challenge')!, claims: { ...this.user }, scope: q.get('scope') ?? 'openid' });
    const back = new URL(q.get('redirect_uri')!);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state') ?? '');
    back.searchParams.set('iss', this.issuer);
    return back;
  }

  /** A signed back-channel logout token (OIDC Back-Channel Logout §2.4) for `sid` and/or `sub`. */
  logoutToken(claims: { sid?: string; sub?: string; jti?: string }): Promise<string> {
    const payload = { events: { [BACKCHANNEL_EVENT]: {} }, ...(claims.sid ? { sid: claims.sid } : {}), ...(claims.sub ? { sub: claims.sub } : {}) };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'logout+jwt' })
      .setIssuer(this.issuer)
      .setAudience(this.clientId)
      .setIssuedAt()
      .setJti(claims.jti ?? randomBytes(8).toString('hex'))
      .sign(this.privateKey);
  }

  /** client_secret_basic (RFC 6749 §2.3.1): both halves form-encoded before base64. */
  private authenticates(headers: Headers): boolean {
    const [scheme, encoded] = (headers.get('authorization') ?? '').split(' ');
    if (scheme !== 'Basic' || !encoded) return false;
    const [id, secret] = Buffer.from(encoded, 'base64').toString().split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    return id === this.clientId && secret === this.clientSecret;
  }

  private async token(body: URLSearchParams, headers: Headers): Promise<Response> {
    const error = (status: number, code: string) => Response.json({ error: code }, { status });
    if (!this.authenticates(headers)) return error(401, 'invalid_client');
    const grant = body.get('grant_type');
    if (grant === 'authorization_code') {
      this.grants.authorization_code += 1;
      const pending = this.codes.get(body.get('code') ?? '');
      this.codes.delete(body.get('code') ?? ''); // single use
      if (!pending || pending.redirectUri !== body.get('redirect_uri')) return error(400, 'invalid_grant');
      const verifier = body.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return error(400, 'invalid_grant');
      return Response.json({ ...this.tokens(), id_token: await this.idToken(pending), scope: pending.scope });
    }
    if (grant === 'refresh_token') {
      this.grants.refresh_token += 1;
      if (this.refreshAnswer === 'unavailable') return error(503, 'temporarily_unavailable');
      const held = this.refreshTokens.get(body.get('refresh_token') ?? '');
      if (this.refreshAnswer === 'rejected' || !held || held.used) return error(400, 'invalid_grant');
      held.used = true; // rotation: a replay of this one is refused
      return Response.json(this.tokens());
    }
    return error(400, 'unsupported_grant_type');
  }

  private tokens() {
    const refreshToken = `rt-${randomBytes(12).toString('base64url')}`;
    this.refreshTokens.set(refreshToken, { used: false });
    return { access_token: `at-${randomBytes(12).toString('base64url')}`, token_type: 'Bearer', expires_in: this.expiresIn, refresh_token: refreshToken };
  }

  /** Issues a refresh token this IdP will honour once, for sessions a test makes without a login. */
  issueRefreshToken(): string {
    return this.tokens().refresh_token;
  }

  /** Signed with real time: openid-client checks `iat`/`exp` against the system clock. */
  private idToken(code: PendingCode): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...code.claims, ...(code.nonce ? { nonce: code.nonce } : {}), auth_time: now })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid })
      .setIssuer(this.issuer)
      .setAudience(code.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(this.privateKey);
  }
}
