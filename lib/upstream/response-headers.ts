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
import { namesUpstream, refreshToPublic, toPublicUrl, type UrlMapping } from './public-urls';

export type { UrlMapping } from './public-urls';

export interface BrowserResponseOptions {
  requestId: string;
  /**
   * Gatehouse's own `Set-Cookie` headers for this response (a refreshed cookie session, a cleared
   * cookie), serialised by the server's writer (lib/server/upstream-route.ts); they join the
   * upstream's, which are foreign strings.
   */
  setCookies: readonly string[];
  /**
   * `COOKIE_PREFIX` and, in SSO modes, `SSO_SESSION_COOKIE_NAME`: names the upstream may not set.
   * Absent for the SSO server, which owns the session cookie. */
  ownCookies?: { prefix: string; sessionName?: string };
  /** Absent: URLs are passed as they are (the SSO server is public). */
  mapping?: UrlMapping;
}

/**
 * Caching headers aimed at shared caches only (RFC 9213 `CDN-Cache-Control` and vendor variants,
 * `Surrogate-Control`, Akamai's `Edge-Control`, nginx's `X-Accel-Expires`): they would override `private`.
 */
export const isSharedCacheHeader = (name: string) => /^(?:cdn-cache-control|surrogate-control|edge-control|x-accel-expires|[a-z0-9-]+-cdn-cache-control)$/.test(name.toLowerCase());

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
    const m = o.mapping;
    for (const name of ['location', 'content-location', 'refresh'] as const) {
      const value = out[name];
      if (typeof value !== 'string') continue;
      const made = name === 'refresh' ? refreshToPublic(value, m) : toPublicUrl(value, m);
      // Whatever still names an upstream (two headers joined into one, say) does not go out.
      if (made === null || namesUpstream(made, m)) delete out[name];
      else out[name] = made;
    }
  }

  // A sealed session in a shared cache would hand one user's session to the next visitor.
  if (o.setCookies.length > 0) {
    out['cache-control'] = 'private, no-store';
    for (const name of Object.keys(out)) if (isSharedCacheHeader(name)) delete out[name];
  }
  out['x-request-id'] = o.requestId;
  return out;
}
