/**
 * The thin adapter between Next route handlers and actions: build the context, run the action,
 * map failures to a clear answer, add the headers every `/oauth2/*` response carries.
 */
import { asGatehouseError, GatehouseError } from '../errors';
import { gatehouse, isRelyingParty, type Gatehouse, type RelyingPartyGatehouse } from '../gatehouse';
import { isStoreUnavailable } from '../session/store';
import { createContext, type RequestContext } from './context';
import { INGRESS_HEADER } from './internal-headers';
import { errorResponse, finish } from './responses';

export type Action = (gh: Gatehouse, ctx: RequestContext, request: Request) => Promise<Response>;
export type RelyingPartyAction = (gh: RelyingPartyGatehouse, ctx: RequestContext, request: Request) => Promise<Response>;

export function contextOf(gh: Gatehouse, request: Request): RequestContext {
  const url = new URL(request.url);
  return createContext(gh.config, {
    method: request.method,
    innerPath: url.pathname,
    search: url.search,
    headers: request.headers,
    ingressIndex: Number(request.headers.get(INGRESS_HEADER) ?? 0) || 0,
  });
}

export function route(action: Action) {
  return async (request: Request): Promise<Response> => {
    const gh = gatehouse();
    const ctx = contextOf(gh, request);
    let response: Response;
    try {
      response = await action(gh, ctx, request);
    } catch (error) {
      const failure = isStoreUnavailable(error) ? new GatehouseError('store_unavailable', { cause: error }) : asGatehouseError(error);
      response = errorResponse(gh.config, ctx, failure, { html: ctx.navigation });
    }
    return finish(response, ctx);
  };
}

/**
 * An endpoint only a relying party serves (callbacks, the session API, the logout channels). On an
 * SSO proxy (SPEC §8) the server forwards these to SSO_SERVER_URL or refuses them before Next sees
 * them (lib/server/dispatch.ts); one that got here anyway would find nothing.
 */
export function relyingPartyRoute(action: RelyingPartyAction) {
  return route(async (gh, ctx, request) =>
    isRelyingParty(gh) ? action(gh, ctx, request) : errorResponse(gh.config, ctx, new GatehouseError('not_found'), { html: ctx.navigation }));
}
