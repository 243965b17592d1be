// The embedded OpenID Provider used by `npm run dev` and by the integration tests.
//
// It is oidc-provider 9 configured like a friendly first-party IdP: any login/password works,
// consent is implied, refresh tokens are always issued, and everything a relying party like
// Gatehouse needs to be exercised (PKCE, PAR, RFC 9207 `iss`, RP-initiated and back-channel
// logout) is switched on. It is NOT meant for production and is never imported by the app.
//
// Notes on oidc-provider 9 that shaped this file (verified against node_modules/oidc-provider):
// - RFC 9207 `iss` in the authorization response has no feature flag in v9: it is always sent
//   for responses without an id_token and discovery always says
//   `authorization_response_iss_parameter_supported: true`.
// - PKCE: only S256 exists in v9; `pkce.required` is a function we make always return true.
// - `conformIdTokenClaims` defaults to true, which keeps scope claims (name, email...) OUT of the
//   id_token when an access token is issued. Gatehouse shows id_token claims, so we turn it off.
// - `sid` only appears in id_tokens of clients with a back-channel logout URI *and*
//   `backchannel_logout_session_required`; we want it for every client (front-channel logout tests)
//   so `Client.prototype.includeSid` is forced to true.
// - Outgoing fetches (back-channel logout) go through an SSRF-guarding undici dispatcher that kills
//   sockets to loopback/private addresses; the `fetch` option receives it in `options.dispatcher`.
// - The built-in memory adapter is an LRU of 1000 entries (~8 entries per login), so very old,
//   untouched logins of a long-lived IdP can vanish. Fine for a test file or a dev session.

import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { Buffer } from 'node:buffer';
import type {
  Account,
  Client,
  Configuration,
  Grant,
  KoaContextWithOIDC,
  Provider,
} from 'oidc-provider';
import { listen } from './listen';

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
  /** IdP-initiated back-channel logout of (sub, sid) towards one client. Resolves when delivered. */
  backchannelLogout(args: { clientId: string; sub: string; sid?: string }): Promise<void>;
  /** The `sid` of the last code grant for `sub` (what a logout token or front-channel call carries). */
  lastSid(sub: string): string | undefined;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Noise control. oidc-provider prints "Unsupported runtime" on Node 20 (it wants 22+, but works),
// plus quick-start warnings we chose deliberately (devInteractions, memory adapter) and a NOTICE
// for every default helper it calls. They drown test output, so we drop exactly those lines.
// Set IDP_VERBOSE=1 to see them.
// ---------------------------------------------------------------------------------------------
const NOISE = [
  /Unsupported runtime/,
  /devInteractions is enabled/,
  /in-memory adapter is used/,
  /development-only signing keys/,
  /already parsed request body detected/,
  /oidc-provider NOTICE: /,
];

let noiseFilterInstalled = false;
function installNoiseFilter(): void {
  if (noiseFilterInstalled || process.env.IDP_VERBOSE === '1') return;
  noiseFilterInstalled = true;
  for (const level of ['warn', 'info'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      const first = args[0];
      if (typeof first === 'string' && first.includes('oidc-provider ') && NOISE.some((re) => re.test(first))) {
        return;
      }
      original(...args);
    };
  }
}

// oidc-provider's "Unsupported runtime" warning fires while its module is evaluated, so it must be
// imported dynamically, after the filter is in place.
let providerModule: Promise<typeof import('oidc-provider')> | undefined;
function loadOidcProvider(): Promise<typeof import('oidc-provider')> {
  installNoiseFilter();
  providerModule ??= import('oidc-provider');
  return providerModule;
}

// Fixed per process: cookies sealed by one IdP instance stay readable by another in the same process
// (a test restarting its IdP), and there is no secret worth protecting in a dev IdP.
const COOKIE_KEYS = [randomBytes(32).toString('base64url')];

// One RS256 signing key per process. Generating it ourselves avoids oidc-provider's fixed
// "quick start" keys (and their warning); 2048-bit generation costs ~50 ms, so it is cached.
let processSigningKey: Record<string, unknown> | undefined;
function signingKey(): Record<string, unknown> {
  if (!processSigningKey) {
    // Exporting a JWK straight from a freshly generated key object can deadlock Node 20 when a
    // garbage collection frees the key-generation job mid-export; going through PEM cannot.
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    processSigningKey = {
      ...(createPrivateKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>),
      kid: `dev-${randomUUID().slice(0, 8)}`,
      alg: 'RS256',
      use: 'sig',
    };
  }
  return processSigningKey;
}

/** Claims for the login name typed into the dev login form: `alice` → "Alice Demo", alice@example.com. */
export function demoClaims(login: string): Record<string, string | boolean> {
  const local = login.toLowerCase().replace(/[^a-z0-9._-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'user';
  const display = login.charAt(0).toUpperCase() + login.slice(1);
  return {
    sub: login,
    name: `${display} Demo`,
    given_name: display,
    family_name: 'Demo',
    preferred_username: login,
    email: `${local}@example.com`,
    email_verified: true,
  };
}

/** The client registration of a Gatehouse reachable at `appUrl` (no trailing slash needed). */
export function demoClient(
  appUrl: string,
  clientId = 'gatehouse-test',
  clientSecret = 'gatehouse-test-secret-0123456789abcdef',
): ClientSpec {
  const base = appUrl.replace(/\/+$/, '');
  return {
    clientId,
    clientSecret,
    redirectUris: [`${base}/oauth2/callback`],
    postLogoutRedirectUris: [`${base}/oauth2/logout/callback`],
    backchannelLogoutUri: `${base}/oauth2/logout/backchannel`,
    tokenEndpointAuthMethod: 'client_secret_basic',
  };
}

function clientMetadata(spec: ClientSpec): Record<string, unknown> {
  const method = spec.tokenEndpointAuthMethod ?? 'client_secret_basic';
  return {
    client_id: spec.clientId,
    ...(method === 'private_key_jwt' ? { jwks: spec.jwks } : { client_secret: spec.clientSecret }),
    token_endpoint_auth_method: method,
    redirect_uris: spec.redirectUris,
    post_logout_redirect_uris: spec.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(spec.backchannelLogoutUri
      ? { backchannel_logout_uri: spec.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  };
}

function errorCode(err: unknown): { error?: string; errorDescription?: string } {
  const e = err as { error?: unknown; error_description?: unknown; message?: unknown } | undefined;
  return {
    error: typeof e?.error === 'string' ? e.error : typeof e?.message === 'string' ? e.message : undefined,
    errorDescription: typeof e?.error_description === 'string' ? e.error_description : undefined,
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `prompt=select_account` has no devInteractions page (it answers 501); a dev IdP with one account per
 *  login can treat it as `login`, which is what "pick an account" amounts to there. */
function mapPrompt(params: URLSearchParams): boolean {
  const prompt = params.get('prompt');
  if (!prompt || !prompt.split(' ').includes('select_account')) return false;
  const mapped = [...new Set(prompt.split(' ').map((p) => (p === 'select_account' ? 'login' : p)))];
  params.set('prompt', mapped.join(' '));
  return true;
}

export async function startIdp(options: IdpOptions): Promise<Idp> {
  const { Provider, errors } = await loadOidcProvider();
  const host = options.host ?? '127.0.0.1';
  const issuerHost = options.issuerHost ?? '127.0.0.1';
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 300;
  const rotate = options.rotateRefreshTokens ?? true;
  const resources = new Set(options.resourceIndicators ?? []);

  // Listen first: with port 0 the issuer (which contains the port) is only known afterwards.
  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  const listening = await listen(server, options.port ?? 0, host);
  const port = listening.port;
  const issuer = `http://${issuerHost}:${port}`;

  const configuration: Configuration = {
    clients: options.clients.map(clientMetadata),
    jwks: options.jwks ?? { keys: [signingKey()] },
    cookies: { keys: COOKIE_KEYS },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
    },
    // See header: keep profile/email claims in the id_token, where Gatehouse reads the user from.
    conformIdTokenClaims: false,
    acrValues: options.acrValues ?? [],
    discovery: options.uiLocales ? { ui_locales_supported: options.uiLocales } : {},
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // The stock page asks "Do you want to sign-out?" and waits for a click. This one adds
        // `logout=yes` (end the whole IdP session, notify every client) and submits itself, so a
        // browser — or test/harness/browser.ts, which submits self-submitting forms — goes straight on.
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.type = 'html';
          ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing out</title></head>
<body>${autoForm}<p>Signing you out of the dev identity provider…</p>
<noscript><button type="submit" form="op.logoutForm">Continue</button></noscript>
<script>document.forms[0].submit()</script></body></html>`;
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signed out</title></head><body><p>You are signed out of the dev identity provider.</p></body></html>';
        },
      },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: options.pushedAuthorizationRequests ?? true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Reuse the resource granted at the authorization endpoint when the token request repeats none.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, resource: string) => {
          if (!resources.has(resource)) throw new errors.InvalidTarget();
          return { scope: 'api', audience: resource, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'jwt' };
        },
      },
    },
    // Without this, oidc-provider issues refresh tokens only for offline_access + prompt=consent.
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: rotate,
    ttl: {
      AccessToken: accessTokenTtl,
      IdToken: options.idTokenTtlSeconds ?? 3600,
      RefreshToken: options.refreshTokenTtlSeconds ?? 14 * 24 * 3600,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string): Promise<Account> => ({
      accountId: sub,
      claims: () => demoClaims(sub),
    }),
    // Consent is implied for these first-party clients: load (or create) the grant and add whatever
    // the request asks for, so the consent prompt never has anything missing and never shows. This is
    // the documented way to skip consent in oidc-provider ≥ 7 (the grant, not a config flag, decides).
    loadExistingGrant: async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
      const { oidc } = ctx;
      const client = oidc.client;
      const accountId = oidc.session.accountId;
      if (!client || !accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(client.clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      // A grant revoked by refresh-token replay or logout is gone; one of another account is not ours.
      if (!grant || grant.accountId !== accountId) {
        grant = new oidc.provider.Grant({ accountId, clientId: client.clientId });
      }
      const scopes = [...oidc.requestParamOIDCScopes].join(' ');
      if (scopes) grant.addOIDCScope(scopes);
      const claims = [...oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
        const rsScopes = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s)).join(' ');
        if (rsScopes) grant.addResourceScope(indicator, rsScopes);
      }
      await grant.save();
      return grant;
    },
    // oidc-provider ≥ 9.7 hands its fetch an SSRF-guarding undici dispatcher that destroys sockets to
    // loopback/private addresses, so back-channel logout to http://127.0.0.1:PORT (tests) or
    // http://localhost:3000 (npm run dev) would always fail. This IdP only ever runs on a developer
    // machine or in tests, so drop the guard. Never copy this into a real IdP.
    fetch: (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfGuard, ...rest } = init;
      return globalThis.fetch(url, rest);
    },
    renderError: async (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
      ctx.type = 'html';
      const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>IdP error</title></head><body><h1>Dev IdP error</h1>${Object.entries(out)
        .map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(String(v))}</pre>`)
        .join('')}</body></html>`;
    },
  };

  const provider = new Provider(issuer, configuration);

  // Every client gets `sid` in its id_tokens (see header), like most real IdPs.
  provider.Client.prototype.includeSid = () => true;

  const grants: GrantCounters = {
    authorizationCodeGrants: 0,
    refreshGrants: 0,
    authorizationCodeGrantErrors: 0,
    refreshGrantErrors: 0,
  };
  const grantLog: GrantEvent[] = [];
  const authorizationRequests: Array<Record<string, string>> = [];
  const backchannelLogouts: BackchannelEvent[] = [];
  const sids = new Map<string, string>();
  let endSessions = 0;
  let tokenFault: TokenFault | undefined;
  let tokenDelayMs = 0;

  const grantTypeOf = (ctx: KoaContextWithOIDC): string => {
    const fromParams = ctx.oidc?.params?.grant_type;
    return typeof fromParams === 'string' ? fromParams : 'unknown';
  };
  const count = (type: string, ok: boolean) => {
    if (type === 'authorization_code') grants[ok ? 'authorizationCodeGrants' : 'authorizationCodeGrantErrors'] += 1;
    if (type === 'refresh_token') grants[ok ? 'refreshGrants' : 'refreshGrantErrors'] += 1;
  };

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const type = grantTypeOf(ctx);
    count(type, true);
    const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
    const sub = source?.accountId;
    const sid = source?.sid;
    if (type === 'authorization_code' && sub && sid) sids.set(sub, sid);
    grantLog.push({ type, ok: true, clientId: ctx.oidc.client?.clientId, sub, sid, at: Date.now() });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: unknown) => {
    const type = grantTypeOf(ctx);
    count(type, false);
    grantLog.push({ type, ok: false, ...errorCode(err), clientId: ctx.oidc?.client?.clientId, at: Date.now() });
  });
  provider.on('backchannel.success', (_ctx: unknown, client: Client, sub: string, sid?: string) => {
    backchannelLogouts.push({ clientId: client.clientId, sub, sid, ok: true });
  });
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: Client, sub: string, sid?: string) => {
    backchannelLogouts.push({ clientId: client.clientId, sub, sid, ok: false, error: String((err as Error)?.message ?? err) });
  });
  // Also fires when a different account logs in over an existing IdP session: oidc-provider first
  // ends that session (logout=yes), which sends back-channel logouts for the previous account.
  provider.on('end_session.success', () => {
    endSessions += 1;
  });
  // oidc-provider logs unexpected errors only through this event; surface them, they are bugs.
  provider.on('server_error', (_ctx: unknown, err: unknown) => {
    console.error('[dev-idp] server_error', err);
  });

  const authorizationPath = provider.pathFor('authorization');
  const parPath = provider.pathFor('pushed_authorization_request');
  const tokenPath = provider.pathFor('token');

  // Runs before oidc-provider's own router (Provider#use inserts ahead of it).
  provider.use(async (ctx, next) => {
    // Record authorization requests as sent, and map prompt=select_account (see mapPrompt).
    if (ctx.method === 'GET' && ctx.path === authorizationPath) {
      const params = new URLSearchParams(ctx.querystring);
      if (!params.has('request_uri')) authorizationRequests.push(Object.fromEntries(params));
      if (mapPrompt(params)) ctx.querystring = params.toString();
    } else if (ctx.method === 'POST' && ctx.path === parPath && ctx.is('application/x-www-form-urlencoded')) {
      // Reading the body here means oidc-provider falls back to `req.body` (a string it re-parses).
      const raw = await readBody(ctx.req);
      const params = new URLSearchParams(raw);
      authorizationRequests.push(Object.fromEntries(params));
      mapPrompt(params);
      ctx.req.body = params.toString();
    } else if (ctx.method === 'POST' && ctx.path === tokenPath) {
      if (tokenDelayMs > 0) await new Promise((r) => setTimeout(r, tokenDelayMs));
      if (tokenFault && tokenFault.remaining > 0) {
        tokenFault.remaining -= 1;
        ctx.status = tokenFault.status;
        ctx.type = 'application/json';
        ctx.set('cache-control', 'no-store');
        ctx.body = tokenFault.body;
        grantLog.push({ type: 'injected-fault', ok: false, error: tokenFault.body.error, at: Date.now() });
        return;
      }
    }
    await next();
    // devInteractions pages @import Google Fonts; offline (tests, CI) that stalls page loads.
    if (typeof ctx.body === 'string' && ctx.type.includes('html')) {
      ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
    }
  });

  handler = provider.callback();

  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return {
    issuer,
    port,
    provider,
    grants,
    grantLog,
    authorizationRequests,
    backchannelLogouts,
    get endSessions() {
      return endSessions;
    },
    reset() {
      grants.authorizationCodeGrants = 0;
      grants.refreshGrants = 0;
      grants.authorizationCodeGrantErrors = 0;
      grants.refreshGrantErrors = 0;
      grantLog.length = 0;
      authorizationRequests.length = 0;
      backchannelLogouts.length = 0;
      endSessions = 0;
      tokenFault = undefined;
      tokenDelayMs = 0;
    },
    failTokenRequests(n = 1, status = 503, body = { error: 'temporarily_unavailable', error_description: 'injected by the test' }) {
      tokenFault = { remaining: n, status, body };
    },
    delayTokenRequests(ms: number) {
      tokenDelayMs = ms;
    },
    async backchannelLogout({ clientId, sub, sid }) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      await client.backchannelLogout(sub, sid ?? sids.get(sub));
    },
    lastSid(sub: string) {
      return sids.get(sub);
    },
    close() {
      return new Promise<void>((resolve) => {
        listening.closeExtra();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
