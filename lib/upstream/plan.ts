/**
 * The forwarding decision (SPEC §4 item 3), pure: which upstream URL a path goes to, and exactly
 * which headers travel each way. The transport (lib/upstream/forward.ts) only carries it out.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { UpstreamRoute } from '../config';
import { foreignCookieHeader } from '../http/cookies';
import { dropSegments, segmentCount } from '../http/request-path';
import { applyFraming, requestFraming } from './framing';
import { boundedMemo } from '../memo';
import { connectionNamed, HOP_BY_HOP, NEXT_INTERNAL } from './hop-by-hop';
import { identityHeaders, type IdentitySource } from './identity-headers';
import type { Session } from '../session/session';

const within = (path: string, prefix: string) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);

/** Longest prefix wins (routes arrive sorted); the prefix is replaced by the target's path. */
export function matchUpstream(routes: readonly UpstreamRoute[], decodedPath: string): UpstreamRoute | null {
  return routes.find((route) => within(decodedPath, route.prefix)) ?? null;
}

/**
 * `/api=http://api:8080/v1` sends `/api/users?x=1` to `http://api:8080/v1/users?x=1`, and `/api`
 * itself to `/v1`. `rawPath` is the still-encoded path below the ingress.
 */
export function upstreamUrl(route: UpstreamRoute, rawPath: string, search: string): URL {
  const depth = segmentCount(route.prefix);
  const rest = depth === 0 || rawPath.split('/').length > depth + 1 ? dropSegments(rawPath, depth) : '';
  const base = route.target.pathname.replace(/\/$/, '');
  const url = new URL(route.target.href);
  url.pathname = `${base}${rest}` || '/';
  url.search = search;
  return url;
}

export interface UpstreamRequestOptions {
  accessToken: string | null;
  /** `UPSTREAM_IDENTITY_HEADERS=true` and a session: who it is, as `X-Auth-Request-*` (SPEC §4 item 5). */
  identity?: IdentitySource | null;
  cookiePrefix: string;
  /** `SSO_SESSION_COOKIE_NAME` in SSO modes: kept from the upstream like every other own cookie. */
  sessionCookieName?: string;
  requestId: string;
  /** Public ingress the browser used; the client's own X-Forwarded-Host is not believed. */
  ingress: URL;
  remoteAddress: string | undefined;
  target: URL;
  /** Keep `Connection`/`Upgrade` for a WebSocket handshake. */
  upgrade?: boolean;
}

/**
 * Client headers that never pass: hop-by-hop, Next internals, and every header Gatehouse sets
 * itself. Checked with `_` read as `-`, because CGI-style upstreams (PHP, WSGI, Rack) map
 * `X_Auth_Request_User` and `X-Auth-Request-User` to the same variable.
 */
const isSetByGatehouse = boundedMemo(
  (name) => {
    const n = name.replaceAll('_', '-');
    return HOP_BY_HOP.has(n) || NEXT_INTERNAL.test(n) || OWN_REQUEST_HEADERS.has(n) || n.startsWith('x-forwarded-') || n.startsWith('x-auth-request-');
  },
  // The same few dozen names arrive on every request; real names are far shorter than 64.
  1024,
  64,
);
const OWN_REQUEST_HEADERS = new Set(['authorization', 'cookie', 'host', 'forwarded', 'x-request-id', 'content-length']);

/** The identity of a session for {@link UpstreamRequestOptions.identity}; null without one. */
export const identityOf = (config: { access: { groupsClaim: string } }, session: Session | null): IdentitySource | null =>
  session ? { sub: session.sub, claims: session.user, groupsClaim: config.access.groupsClaim, provider: session.provider } : null;

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, o: UpstreamRequestOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionNamed(incoming);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || named.has(name) || isSetByGatehouse(name)) continue;
    out[name] = value;
  }
  const cookie = foreignCookieHeader(incoming.cookie, o.cookiePrefix, o.sessionCookieName);
  if (cookie) out.cookie = cookie;
  if (o.accessToken) out.authorization = `Bearer ${o.accessToken}`;
  // After the copy loop, which dropped every client-sent X-Auth-Request-* (any case, `_` forms).
  if (o.identity) Object.assign(out, identityHeaders(o.identity));
  out.host = o.target.host;
  out['x-request-id'] = o.requestId;
  out['x-forwarded-host'] = o.ingress.host;
  out['x-forwarded-proto'] = o.ingress.protocol.slice(0, -1);
  const priorFor = typeof incoming['x-forwarded-for'] === 'string' ? `${incoming['x-forwarded-for']}, ` : '';
  if (o.remoteAddress) out['x-forwarded-for'] = `${priorFor}${o.remoteAddress}`;
  if (o.upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = incoming.upgrade;
  }
  // Explicit for every method: see lib/upstream/framing.ts. Callers refuse ambiguous framing first.
  applyFraming(out, requestFraming(incoming));
  return out;
}
