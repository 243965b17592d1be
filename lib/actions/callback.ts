/**
 * `GET /oauth2/callback` (SPEC §3): checks the answer against its login cookie, lets openid-client
 * exchange the code and validate everything, creates the session, 302 to the saved target.
 */
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { GatehouseError, type ErrorCode } from '../errors';
import type { RelyingPartyGatehouse } from '../gatehouse';
import { cookieNames, expired, overriddenBy } from '../http/cookies';
import { homePath, type RequestContext } from '../http/context';
import { redirect } from '../http/responses';
import { log } from '../log';
import { metrics } from '../metrics';
import { forgetOidcConfiguration } from '../oidc/client';
import { exchangeCode, idpErrorCode } from '../oidc/flows';
import { loginIdFromState, readLoginTransaction } from '../oidc/login-transaction';
import { findProvider, sessionProviderId } from '../oidc/providers';
import { current } from '../session/current';
import type { Session } from '../session/session';
import { defaultTarget, redirectTarget } from '../sso';
import { refuseLogin, refuseNonNavigation, showError } from './guard';
import { accessDenial } from '../access-rules';

/** id_token claims that describe the token, not the user; never shown in the session JSON. */
const TOKEN_CLAIMS = new Set(['iss', 'aud', 'azp', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'at_hash', 'c_hash', 's_hash', 'sid', 'sub', 'auth_time']);

export const userClaims = (claims: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(claims).filter(([name]) => !TOKEN_CLAIMS.has(name)));

/** IdP `error=` codes that mean "the person (or policy) said no", not "something broke". */
const DENIED = new Set(['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

/** openid-client codes that mean the IdP did not answer properly (as opposed to saying no). */
const IDP_FAILED = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

/**
 * 4xx when the answer itself is refused (IdP error, replayed code, `iss` or signature mismatch),
 * 502 when the IdP could not be reached or answered garbage.
 */
function exchangeFailure(error: unknown): ErrorCode {
  if (error instanceof client.AuthorizationResponseError) return DENIED.has(error.error) ? 'access_denied' : 'login_failed';
  if (error instanceof client.ResponseBodyError) return error.status >= 500 ? 'idp_unavailable' : 'login_failed';
  if (error instanceof client.ClientError) return IDP_FAILED.has(error.code ?? '') ? 'idp_unavailable' : 'login_failed';
  return 'idp_unavailable'; // fetch failures: refused, reset, DNS
}

export async function callback(gh: RelyingPartyGatehouse, ctx: RequestContext): Promise<Response> {
  const refused = refuseNonNavigation(ctx);
  if (refused) return refused;
  const { config, relyingParty: rp } = gh;
  const loginId = loginIdFromState(ctx.query.get('state'));
  const tx = loginId ? await readLoginTransaction(ctx.cookies, loginId, config.cookiePrefix, config.session.secrets) : null;
  const clearLogin = loginId && ctx.cookies.has(cookieNames(config.cookiePrefix).login(loginId)) ? [expired(cookieNames(config.cookiePrefix).login(loginId), ctx.scope)] : [];

  if (!tx) {
    // A second tab finishing after the first one already logged in: nothing to do but go on.
    if ((await current(gh, ctx.cookies, ctx.now)).valid) return redirect(homePath(ctx), clearLogin);
    const idpError = ctx.query.get('error');
    const code = idpError && DENIED.has(idpError) ? 'access_denied' : loginId ? 'login_expired' : 'invalid_state';
    return showError(config, ctx, code, undefined, clearLogin);
  }
  const target = redirectTarget(config, tx.target, defaultTarget(config, homePath(ctx)));
  // SPEC §12: the answer must come from the provider this login went to. Its configuration alone is
  // used below, so openid-client checks RFC 9207 `iss` and the id_token's `iss` against it (mix-up
  // defence), and the code goes to its token endpoint only.
  const provider = findProvider(rp, tx.provider);
  if (!provider) return showError(config, ctx, 'login_expired', target, clearLogin);

  let result;
  try {
    const callbackUrl = new URL(tx.redirectUri);
    callbackUrl.search = ctx.search;
    result = await exchangeCode(await rp.oidc(provider), callbackUrl, { ...tx, resource: provider.resource }, ctx.now);
  } catch (error) {
    const code = exchangeFailure(error);
    log.warn('login failed', { error_code: code, idp_error: idpErrorCode(error), provider: tx.provider });
    // Signed with a key we do not know yet: the IdP rotated its keys. Let "try again" see them.
    if (idpErrorCode(error) === 'OAUTH_KEY_SELECTION_FAILED') forgetOidcConfiguration(provider);
    metrics.logins.inc({ outcome: 'failure' });
    return showError(config, ctx, new GatehouseError(code, { cause: error }), target, clearLogin);
  }

  const { claims, tokens } = result;
  const denied = accessDenial(config.access, claims);
  if (denied) return refuseLogin(config, ctx, denied, target, clearLogin); // SPEC §12: no session
  const previous = await gh.sessions.lookup(ctx.cookies);
  const setCookies = previous.state === 'none' ? [] : await rp.sessions.end(previous, ctx.cookies, ctx.scope, { bestEffort: true });
  const session: Session = {
    id: randomUUID(),
    createdAt: ctx.now,
    endsAt: ctx.now + config.session.maxLifetimeMs,
    lastSeenAt: ctx.now,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    sub: String(claims.sub),
    user: userClaims(claims),
    tokens,
    provider: sessionProviderId(rp, provider),
  };
  const created = await rp.sessions.create(session, ctx.cookies, ctx.scope);
  metrics.logins.inc({ outcome: 'success', store: created.store });
  log.info('login completed', { store: created.store });
  return redirect(target, [...overriddenBy(setCookies, created.setCookies), ...clearLogin]);
}
