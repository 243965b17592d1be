/**
 * `GET /oauth2/auth` (SPEC §3): forward-auth for a proxy in front of other services (nginx
 * `auth_request`, Traefik ForwardAuth, Envoy ext_authz over HTTP, Caddy `forward_auth`). The proxy
 * sends the browser's request headers; the answer says whether to let it through and with which
 * `Authorization`. The session goes through the same gate as every other request (refresh when
 * due, access rules), with one difference: no session is never a pass, whatever AUTO_LOGIN says
 * (the proxy decides which locations ask).
 *
 * - valid session → 202, `Authorization: Bearer <access token>`, identity headers when enabled;
 * - no session → 401 JSON `{"error":"unauthenticated","login_url"}` and the same URL in `Location`,
 *   whose `redirect` is the request the proxy was asked to let through;
 * - denied by the access rules → 403 JSON.
 */
import type { Gatehouse } from '../gatehouse';
import { GatehouseError } from '../errors';
import { unauthenticatedBody } from '../gate';
import { homePath, type RequestContext } from '../http/context';
import { errorResponse, withCookies } from '../http/responses';
import { readRequestPath } from '../http/request-path';
import { gateRequest } from '../request-gate';
import { loginPath } from '../routes';
import { identityHeaders } from '../upstream/identity-headers';
import { identityOf } from '../upstream/plan';
import { sanitizeRedirect } from '../url/redirect';

/**
 * The request the proxy is asking about, as a same-origin relative target: nginx passes
 * `X-Original-URI: $request_uri` by convention, Traefik `X-Forwarded-Uri`. Never trusted as more
 * than a redirect value: an absolute or foreign URL is reduced by the redirect rules (SPEC §6).
 */
export function originalTarget(headers: Headers, fallback: string): string {
  const uri = headers.get('x-original-uri') ?? headers.get('x-forwarded-uri');
  return sanitizeRedirect(uri, fallback);
}

export async function forwardAuth(gh: Gatehouse, ctx: RequestContext): Promise<Response> {
  const returnTo = originalTarget(ctx.headers, homePath(ctx));
  const gate = await gateRequest(gh, {
    cookieHeader: ctx.headers.get('cookie'),
    basePath: ctx.basePath,
    decodedPath: readRequestPath(returnTo.split(/[?#]/, 1)[0])?.decoded ?? '/',
    returnTo,
    navigation: false,
    upstream: true,
    requireSession: true,
    now: ctx.now,
  });
  // A proxy asks, not a browser: JSON answers, never the error page or an ERROR_PATH redirect.
  if (gate.kind === 'forbidden') return errorResponse(gh.config, ctx, new GatehouseError('forbidden'), { html: false, setCookies: gate.setCookies });
  if (gate.kind !== 'pass' || !gate.session) {
    // Not a navigation and a session required: 'unauthenticated' is the only other outcome.
    const loginUrl = gate.kind === 'unauthenticated' ? gate.loginUrl : loginPath(ctx.basePath, returnTo);
    const headers = withCookies(new Headers({ 'Content-Type': 'application/json; charset=utf-8', Location: loginUrl }), gate.setCookies);
    return new Response(unauthenticatedBody(loginUrl), { status: 401, headers });
  }
  const headers = new Headers({ Authorization: `Bearer ${gate.session.tokens.accessToken}` });
  if (gh.config.identityHeaders) {
    for (const [name, value] of Object.entries(identityHeaders(identityOf(gh.config, gate.session)!))) headers.set(name, value);
  }
  // A refreshed cookie session: the proxy may hand it on (nginx `auth_request_set`, Traefik
  // `addAuthCookiesToResponse`); with Redis there is nothing to hand on.
  return new Response(null, { status: 202, headers: withCookies(headers, gate.setCookies) });
}
