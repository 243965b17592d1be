// The oidc-provider 9 configuration of the dev IdP: a friendly first-party IdP where any login and
// password works, consent is implied, refresh tokens are always issued, and everything a relying
// party like Gatehouse needs (PKCE, PAR, resource indicators, RP-initiated and back-channel logout)
// is switched on. Only configuration lives here; dev/idp.ts builds the Provider from it.
//
// Notes on oidc-provider 9 that shaped this file (verified against node_modules/oidc-provider):
// - PKCE: only S256 exists in v9; `pkce.required` is a function we make always return true.
// - `conformIdTokenClaims` defaults to true, which keeps scope claims (name, email...) OUT of the
//   id_token when an access token is issued. Gatehouse shows id_token claims, so we turn it off.
// - Outgoing fetches (back-channel logout) go through an SSRF-guarding undici dispatcher that kills
//   sockets to loopback/private addresses; the `fetch` option receives it in `options.dispatcher`.

import type { Account, Configuration, Grant, KoaContextWithOIDC } from 'oidc-provider';
import { COOKIE_KEYS, signingKey } from './keys';
import { clientMetadata, demoClaims } from './registrations';
import type { IdpOptions } from './types';

/** oidc-provider's error classes (`errors` of the dynamically imported module). */
type ProviderErrors = (typeof import('oidc-provider'))['errors'];

/** The Provider configuration for `options`; `errors` comes from the loaded oidc-provider module. */
export function idpConfiguration(options: IdpOptions, errors: ProviderErrors): Configuration {
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 300;
  const rotate = options.rotateRefreshTokens ?? true;
  const resources = new Set(options.resourceIndicators ?? []);

  return {
    clients: options.clients.map(clientMetadata),
    jwks: options.jwks ?? { keys: [signingKey()] },
    cookies: { keys: COOKIE_KEYS },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'groups'],
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
      claims: () => ({ ...demoClaims(sub), ...options.accountClaims?.(sub) }),
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
}
