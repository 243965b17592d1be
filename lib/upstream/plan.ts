/**
 * The forwarding decision (SPEC §4 item 3), pure: which upstream URL a path goes to, and exactly
 * which headers travel each way. The transport (lib/upstream/forward.ts) only carries it out.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { UpstreamRoute } from '../config';
import { foreignCookieHeader } from '../http/cookies';
import { dropSegments, segmentCount } from '../http/request-path';

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

/** Hop-by-hop headers (RFC 9110 §7.6.1) and proxy credentials: never forwarded either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Next.js internals a client could send to steer routing (CVE-2025-29927 used the first). */
const INTERNAL = /^(x-middleware-|x-nextjs-|x-invoke-|x-gatehouse-|next-router-|x-now-|x-vercel-)/;

export interface UpstreamRequestOptions {
  accessToken: string | null;
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

/** Headers the sender declared hop-by-hop by naming them in `Connection` (RFC 9110 §7.6.1). */
function connectionNamed(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set(typeof value === 'string' ? value.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean) : []);
}

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, o: UpstreamRequestOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionNamed(incoming);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || INTERNAL.test(name)) continue;
    if (name === 'authorization' || name === 'cookie' || name === 'host' || name.startsWith('x-forwarded-') || name === 'forwarded' || name === 'x-request-id') continue;
    out[name] = value;
  }
  const cookie = foreignCookieHeader(incoming.cookie, o.cookiePrefix, o.sessionCookieName);
  if (cookie) out.cookie = cookie;
  if (o.accessToken) out.authorization = `Bearer ${o.accessToken}`;
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
  return out;
}

/** What the browser gets back: the upstream's headers minus hop-by-hop and Next internals. */
export function browserResponseHeaders(upstream: IncomingHttpHeaders, requestId: string, extraSetCookies: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionNamed(upstream);
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || INTERNAL.test(name)) continue;
    out[name] = value;
  }
  if (extraSetCookies.length > 0) {
    const existing = upstream['set-cookie'] ?? [];
    out['set-cookie'] = [...existing, ...extraSetCookies];
  }
  out['x-request-id'] = requestId;
  return out;
}
