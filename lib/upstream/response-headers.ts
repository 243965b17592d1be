/**
 * What the browser gets back from an upstream (SPEC §4 item 5), pure: the upstream's headers minus
 * hop-by-hop and Next internals, minus anything that would let the upstream act as Gatehouse
 * (its `Set-Cookie` for a name Gatehouse owns), with its own internal origin replaced by the
 * ingress in `Location`, `Content-Location` and `Refresh` (nginx's `proxy_redirect default`), and
 * never cacheable by a shared cache when Gatehouse adds a cookie of its own.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { shadowsOwnCookie } from '../http/cookies';
import { connectionNamed, HOP_BY_HOP, NEXT_INTERNAL } from './hop-by-hop';

/** How an upstream URL maps onto the public one: the route `/api=http://api:8080/v1` behind `https://app.example`. */
export interface UrlMapping {
  /** The route's target, e.g. `http://api:8080/v1`. */
  target: URL;
  /** The public ingress the browser used (origin and path), e.g. `https://app.example`. */
  ingress: URL;
  /** The route's prefix, e.g. `/api` (`/` for a sidecar). */
  routePrefix: string;
}

export interface BrowserResponseOptions {
  requestId: string;
  /** Gatehouse's own cookies for this response (a refreshed cookie session, a cleared cookie). */
  setCookies: readonly string[];
  /**
   * `COOKIE_PREFIX` and, in SSO modes, `SSO_SESSION_COOKIE_NAME`: names the upstream may not set.
   * Absent for the SSO server, which owns the session cookie. */
  ownCookies?: { prefix: string; sessionName?: string };
  /** Absent: URLs are passed as they are (the SSO server is public). */
  mapping?: UrlMapping;
}

/** Caching headers aimed at shared caches only (RFC 9213, `Surrogate-Control`, Akamai's `Edge-Control`, vendor variants): they would override `private`. */
export const isSharedCacheHeader = (name: string) => /^(?:cdn-cache-control|surrogate-control|edge-control|[a-z0-9-]+-cdn-cache-control)$/.test(name.toLowerCase());

export function browserResponseHeaders(upstream: IncomingHttpHeaders, o: BrowserResponseOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionNamed(upstream);
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || NEXT_INTERNAL.test(name)) continue;
    out[name] = value;
  }
  const own = o.ownCookies;
  const upstreamCookies = (upstream['set-cookie'] ?? []).filter((header) => !own || !shadowsOwnCookie(header, own.prefix, own.sessionName));
  const cookies = [...upstreamCookies, ...o.setCookies];
  if (cookies.length > 0) out['set-cookie'] = cookies;
  else delete out['set-cookie'];

  if (o.mapping) {
    for (const name of ['location', 'content-location'] as const) {
      const value = out[name];
      if (typeof value === 'string') out[name] = toPublicUrl(value, o.mapping);
    }
    if (typeof out.refresh === 'string') out.refresh = refreshToPublic(out.refresh, o.mapping);
  }

  // A sealed session in a shared cache would hand one user's session to the next visitor.
  if (o.setCookies.length > 0) {
    out['cache-control'] = 'private, no-store';
    for (const name of Object.keys(out)) if (isSharedCacheHeader(name)) delete out[name];
  }
  out['x-request-id'] = o.requestId;
  return out;
}

/**
 * `value` with the upstream's own origin replaced by the public one. Only a value that names the
 * upstream's host is changed: one that a browser resolves against the ingress to the ingress
 * (relative paths) or to a foreign origin stays as it is. The path is mapped back through the
 * route (`http://api:8080/v1/users` → `https://app.example/api/users`); a path outside the
 * target's base keeps its path on the ingress. Userinfo is dropped.
 */
export function toPublicUrl(value: string, m: UrlMapping): string {
  let asBrowser: URL;
  let asUpstream: URL;
  try {
    asBrowser = new URL(value, m.ingress);
    asUpstream = new URL(value, m.target);
  } catch {
    return value;
  }
  if (asBrowser.origin === m.ingress.origin || asUpstream.origin !== m.target.origin) return value;
  const targetBase = m.target.pathname.replace(/\/$/, '');
  const ingressBase = m.ingress.pathname.replace(/\/$/, '');
  const path = asUpstream.pathname;
  const inside = targetBase === '' || path === targetBase || path.startsWith(`${targetBase}/`);
  const mapped = inside ? `${ingressBase}${m.routePrefix === '/' ? '' : m.routePrefix}${path.slice(targetBase.length)}` : `${ingressBase}${path}`;
  return `${m.ingress.origin}${mapped || '/'}${asUpstream.search}${asUpstream.hash}`;
}

/**
 * `Refresh: <delay>[;|,] [url=]<url>` (HTML's refresh syntax, which browsers apply to the header):
 * the URL part mapped with {@link toPublicUrl}. Scanned by hand: no regular expression with
 * backtracking runs over the upstream's text.
 */
export function refreshToPublic(value: string, m: UrlMapping): string {
  let i = 0;
  const skip = (chars: string) => {
    while (i < value.length && chars.includes(value[i])) i++;
  };
  skip(' \t');
  const delayStart = i;
  skip('0123456789.');
  if (i === delayStart) return value;
  skip(' \t');
  skip(';,');
  skip(' \t');
  if (value.slice(i, i + 3).toLowerCase() === 'url') {
    let j = i + 3;
    while (j < value.length && ' \t'.includes(value[j])) j++;
    if (value[j] === '=') {
      i = j + 1;
      skip(' \t');
    }
  }
  let url = value.slice(i);
  const quote = url[0] === '"' || url[0] === "'" ? url[0] : '';
  if (quote) url = url.slice(1, url.endsWith(quote) ? -1 : undefined);
  if (!url) return value;
  const mapped = toPublicUrl(url.trim(), m);
  return mapped === url.trim() ? value : `${value.slice(0, i)}${quote}${mapped}${quote}`;
}
