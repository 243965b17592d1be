/**
 * Shared checks of the interactive endpoints (login, callback, logout, logout callback).
 */
import type { AccessDenial } from '../access-rules';
import type { Config } from '../config';
import { GatehouseError } from '../errors';
import { loginPathOf, type RequestContext } from '../http/context';
import type { SetCookie } from '../http/cookies';
import { errorResponse, json } from '../http/responses';
import { log } from '../log';
import { metrics } from '../metrics';

/**
 * SPEC §3: a request that carries Sec-Fetch headers but is not a navigation (a `fetch()` from a
 * page) gets 401 JSON: a redirect to the IdP would be followed invisibly and fail on CORS.
 */
export function refuseNonNavigation(ctx: RequestContext): Response | null {
  if (ctx.interactive) return null;
  return json(401, { error: 'unauthenticated', error_description: 'open this URL in the browser window', login_url: loginPathOf(ctx) });
}

/** Errors of interactive endpoints are shown to the person (page or ERROR_PATH). */
export const showError = (config: Config, ctx: RequestContext, error: GatehouseError | ConstructorParameters<typeof GatehouseError>[0], retryTarget?: string, setCookies?: readonly SetCookie[]) =>
  errorResponse(config, ctx, typeof error === 'string' ? new GatehouseError(error) : error, { html: true, retryTarget, setCookies });

/**
 * SPEC §12: the IdP authenticated someone the access rules do not admit. No session is created;
 * the person sees the 403 page (or ERROR_PATH), with "try again" to log in as someone else.
 */
export function refuseLogin(config: Config, ctx: RequestContext, reason: AccessDenial, retryTarget: string, setCookies: readonly SetCookie[]): Response {
  log.info('login refused by the access rules', { reason });
  metrics.logins.inc({ outcome: 'failure' });
  return showError(config, ctx, 'forbidden', retryTarget, setCookies);
}
