/**
 * `GET /oauth2/login` (SPEC §3): starts the Authorization Code flow with PKCE, state and nonce,
 * in its own login cookie, then 302 to the IdP.
 */
import type { Config, IdentityProvider } from '../config';
import { GatehouseError } from '../errors';
import type { Gatehouse, RelyingParty } from '../gatehouse';
import { homePath, type RequestContext } from '../http/context';
import { publicUrl } from '../http/ingress';
import type { SetCookie } from '../http/cookies';
import { redirect } from '../http/responses';
import { log } from '../log';
import { authorizationUrl, randomCodeVerifier, randomNonce, randomState, supportedOr } from '../oidc/flows';
import { loginCookies, newLoginId, stateFor, type LoginTransaction } from '../oidc/login-transaction';
import { hasSeveralProviders } from '../oidc/providers';
import { current } from '../session/current';
import { defaultTarget, redirectTarget, serverRedirect } from '../sso';
import { sameOriginRefererPath, sanitizeRedirect } from '../url/redirect';
import { refuseNonNavigation, showError } from './guard';
import { loginRateLimiter } from './rate-limit';
import { ROUTES, signInPath } from '../routes';

const PROMPTS = new Set(['login', 'select_account']);

/** The login options (SPEC §3) that survive the detour through the sign-in page. */
const LOGIN_OPTIONS = ['prompt', 'level', 'locale', 'domain_hint'] as const;

/** Copies this request's login options into `query` (login → sign-in page → login). */
export function carryLoginOptions(ctx: RequestContext, query: URLSearchParams): URLSearchParams {
  for (const name of LOGIN_OPTIONS) {
    const value = ctx.query.get(name);
    if (value) query.set(name, value);
  }
  return query;
}

/**
 * SPEC §12: the provider of `?provider=<id>`; with one provider always that one (the parameter is
 * not needed). `choose`: several providers and none named, so the person picks on the sign-in page.
 */
export function chosenProvider(rp: Pick<RelyingParty, 'providers'>, requested: string | null): IdentityProvider | 'choose' | 'unknown' {
  if (!hasSeveralProviders(rp)) return rp.providers[0];
  if (requested === null || requested === '') return 'choose';
  return rp.providers.find((p) => p.id === requested) ?? 'unknown';
}

/** `/oauth2/sign-in?redirect=<target>` with the login options of this request. */
function signInUrl(ctx: RequestContext, target: string): string {
  const url = new URL(signInPath(ctx.basePath, target), 'http://gatehouse.invalid');
  carryLoginOptions(ctx, url.searchParams);
  return url.pathname + url.search;
}

/**
 * Redirect target priority: `redirect` query > same-origin Referer > ingress path (on an SSO
 * server: SSO_DEFAULT_REDIRECT_URL, and absolute targets on the SSO domain are kept, SPEC §8).
 */
export function loginTarget(ctx: RequestContext, config?: Config): string {
  const fallback = config ? defaultTarget(config, homePath(ctx)) : homePath(ctx);
  const requested = ctx.query.get('redirect');
  if (requested !== null) return config ? redirectTarget(config, requested, fallback) : sanitizeRedirect(requested, fallback);
  const referer = sameOriginRefererPath(ctx.headers.get('referer'), ctx.ingress);
  return referer ? sanitizeRedirect(referer, fallback) : fallback;
}

export async function login(gh: Gatehouse, ctx: RequestContext): Promise<Response> {
  const refused = refuseNonNavigation(ctx);
  if (refused) return refused;
  const { config } = gh;
  if (gh.relyingParty === null) {
    // SPEC §8: the server logs in; it sends the browser back here afterwards.
    return redirect(serverRedirect(gh.ssoServer, ROUTES.login, ctx.ingress, loginTarget(ctx), ctx.query));
  }
  const rp = gh.relyingParty;
  const target = loginTarget(ctx, config);
  const provider = chosenProvider(rp, ctx.query.get('provider'));
  if (provider === 'unknown') return showError(config, ctx, 'unknown_provider', target);
  if (provider === 'choose') return redirect(signInUrl(ctx, target));

  const { lookup, session, valid } = await current(gh, ctx.cookies, ctx.now);
  if (valid && !loginRateLimiter.allow(session.id, ctx.now)) return showError(config, ctx, 'rate_limited', target);

  const prompt = ctx.query.get('prompt') ?? '';
  const setCookies: SetCookie[] = [];
  // SPEC §3: any prompt ends the current session first.
  if (PROMPTS.has(prompt) && lookup.state === 'found') setCookies.push(...(await rp.sessions.end(lookup, ctx.cookies, ctx.scope, { bestEffort: true })));

  let oidc;
  try {
    oidc = await rp.oidc(provider);
  } catch (error) {
    return showError(config, ctx, new GatehouseError('idp_unavailable', { cause: error }), target);
  }
  const metadata = oidc.serverMetadata();
  const loginId = newLoginId();
  const tx: LoginTransaction = {
    state: stateFor(loginId, randomState()),
    nonce: randomNonce(),
    codeVerifier: randomCodeVerifier(),
    target,
    redirectUri: publicUrl(ctx.ingress, ROUTES.callback),
    maxAge: prompt === 'login' ? 0 : undefined,
    createdAt: ctx.now,
    provider: provider.id,
  };
  let location: URL;
  try {
    location = await authorizationUrl(oidc, {
      ...tx,
      scopes: provider.scopes,
      prompt: PROMPTS.has(prompt) ? (prompt as 'login' | 'select_account') : undefined,
      acrValues: supportedOr(ctx.query.get('level') ?? undefined, metadata.acr_values_supported, provider.acrValues),
      uiLocales: supportedOr(ctx.query.get('locale') ?? undefined, metadata.ui_locales_supported, provider.uiLocales),
      domainHint: ctx.query.get('domain_hint')?.slice(0, 256) || undefined,
      resource: provider.resource,
    });
  } catch (error) {
    return showError(config, ctx, new GatehouseError('idp_unavailable', { cause: error }), target);
  }
  setCookies.push(...(await loginCookies(tx, loginId, ctx.cookies, ctx.scope, config.session.secrets)));
  log.info('login started', { prompt: prompt || undefined, provider: hasSeveralProviders(rp) ? provider.id : undefined });
  return redirect(location.href, setCookies);
}
