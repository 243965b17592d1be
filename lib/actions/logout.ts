/**
 * RP-initiated logout (SPEC §3): `GET /oauth2/logout`, its callback, and `GET /oauth2/logout/local`.
 */
import type { IdentityProvider } from '../config';
import type { Gatehouse, RelyingPartyGatehouse } from '../gatehouse';
import { cookie, cookieNames, expired, type SetCookie } from '../http/cookies';
import { homePath, type RequestContext } from '../http/context';
import { publicUrl } from '../http/ingress';
import { redirect, withCookies } from '../http/responses';
import { log } from '../log';
import { metrics } from '../metrics';
import { endSessionUrl, randomState } from '../oidc/flows';
import { findProvider } from '../oidc/providers';
import { seal, unseal } from '../seal';
import { sanitizeRedirect } from '../url/redirect';
import { defaultTarget, redirectTarget, serverRedirect } from '../sso';
import { refuseNonNavigation } from './guard';
import { ROUTES } from '../routes';

/** `provider`: whose post-logout URI applies at the callback (SPEC §12). */
interface LogoutTransaction { state: string; redirect?: string; provider?: string }
const LOGOUT_TTL_SECONDS = 600;

/** Without a remembered redirect: the provider's OIDC_POST_LOGOUT_REDIRECT_URI, else the ingress URL. */
const defaultAfterLogout = (gh: Gatehouse, ctx: RequestContext, provider: IdentityProvider | undefined) =>
  provider?.postLogoutRedirectUri ?? defaultTarget(gh.config, publicUrl(ctx.ingress, '') + (ctx.basePath ? '' : '/'));

/**
 * Ends this browser's session. `provider`: the session's identity provider, or with a single
 * provider that one even without a session (the IdP session may outlive ours).
 */
async function endLocalSession(gh: RelyingPartyGatehouse, ctx: RequestContext, channel: string): Promise<{ setCookies: SetCookie[]; idToken?: string; provider?: IdentityProvider }> {
  const rp = gh.relyingParty;
  const lookup = await rp.sessions.lookup(ctx.cookies);
  const setCookies = await rp.sessions.end(lookup, ctx.cookies, ctx.scope);
  if (lookup.state === 'found') {
    metrics.logouts.inc({ channel });
    log.info('session ended', { channel });
  }
  if (lookup.state !== 'found') return { setCookies, provider: findProvider(rp, undefined) };
  return { setCookies, idToken: lookup.session.tokens.idToken, provider: findProvider(rp, lookup.session.provider) };
}

export async function logout(gh: Gatehouse, ctx: RequestContext): Promise<Response> {
  const refused = refuseNonNavigation(ctx);
  if (refused) return refused;
  const { config } = gh;
  const requested = ctx.query.get('redirect');
  if (gh.relyingParty === null) {
    // SPEC §8: the server owns the session and ends it; it sends the browser back here afterwards.
    const back = requested === null ? homePath(ctx) : sanitizeRedirect(requested, homePath(ctx));
    return redirect(serverRedirect(gh.ssoServer, ROUTES.logout, ctx.ingress, back, ctx.query));
  }
  const { setCookies, idToken, provider } = await endLocalSession(gh, ctx, 'rp_initiated');
  const remembered = requested === null ? undefined : redirectTarget(config, requested, defaultTarget(config, homePath(ctx)));

  let oidc;
  try {
    oidc = provider && (await gh.relyingParty.oidc(provider));
  } catch (error) {
    log.warn('IdP unavailable at logout; ended the local session only', { error: error as Error });
  }
  const tx: LogoutTransaction = { state: randomState(), redirect: remembered, provider: provider?.id };
  const endSession = oidc && endSessionUrl(oidc, { idTokenHint: idToken, postLogoutRedirectUri: publicUrl(ctx.ingress, ROUTES.logoutCallback), state: tx.state });
  if (!endSession) return redirect(remembered ?? defaultAfterLogout(gh, ctx, provider), setCookies);
  const sealed = await seal('logout', tx, gh.config.session.secrets, LOGOUT_TTL_SECONDS);
  setCookies.push(cookie(cookieNames(gh.config.cookiePrefix).logout, sealed, ctx.scope, LOGOUT_TTL_SECONDS));
  return redirect(endSession.href, setCookies);
}

export async function logoutCallback(gh: RelyingPartyGatehouse, ctx: RequestContext): Promise<Response> {
  const refused = refuseNonNavigation(ctx);
  if (refused) return refused;
  const name = cookieNames(gh.config.cookiePrefix).logout;
  const sealed = ctx.cookies.get(name);
  const tx = sealed ? await unseal<LogoutTransaction>('logout', sealed, gh.config.session.secrets, LOGOUT_TTL_SECONDS) : null;
  const clear = sealed ? [expired(name, ctx.scope)] : [];
  const state = ctx.query.get('state');
  if (tx?.redirect && state && state === tx.state) return redirect(redirectTarget(gh.config, tx.redirect, defaultTarget(gh.config, homePath(ctx))), clear);
  return redirect(defaultAfterLogout(gh, ctx, findProvider(gh.relyingParty, tx?.provider)), clear);
}

export async function logoutLocal(gh: RelyingPartyGatehouse, ctx: RequestContext): Promise<Response> {
  const { setCookies } = await endLocalSession(gh, ctx, 'local');
  return new Response(null, { status: 204, headers: withCookies(new Headers(), setCookies) });
}
