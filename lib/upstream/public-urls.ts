/**
 * Upstream URLs made public (SPEC §4 item 5), pure: a `Location`, `Content-Location` or `Refresh`
 * that names an upstream's own server is mapped to the ingress, as nginx's `proxy_redirect
 * default` does, so no internal host or port reaches the browser.
 */
import type { UpstreamRoute } from '../config';

/** The routes of this Gatehouse behind the ingress the browser used. */
export interface UrlMapping {
  /** The public ingress the browser used (origin and path), e.g. `https://app.example`. */
  ingress: URL;
  /** The route that answered first, then every other configured route. */
  routes: readonly Pick<UpstreamRoute, 'prefix' | 'target'>[];
}

/** Every name a browser treats as this machine, as WHATWG URL spells them (`[::ffff:127.0.0.1]` is `[::ffff:7f00:1]`). */
const LOOPBACK = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1\]|\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\])$/;
/** `api.` and `api` are one host to a resolver. */
const hostOf = (u: URL) => u.hostname.toLowerCase().replace(/\.$/, '');
const portOf = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');

/**
 * Whether `u` names the server a route targets: the same host (any of the loopback names for a
 * loopback target: a sidecar's app says `localhost` where the route says `127.0.0.1`) and the same
 * port, whatever the scheme, so `https://api:8080` still counts as `http://api:8080`.
 */
function sameServer(u: URL, target: URL): boolean {
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  const host = hostOf(u);
  const targetHost = hostOf(target);
  const hostMatches = host === targetHost || (LOOPBACK.test(host) && LOOPBACK.test(targetHost));
  return hostMatches && portOf(u) === portOf(target);
}

/**
 * `value` with an upstream's server replaced by the ingress. Only a value that names an upstream's
 * server changes: one that a browser resolves to the ingress (relative paths) or to a foreign
 * server stays as it is. The path is mapped back through the route (`http://api:8080/v1/users` →
 * `https://app.example/api/users`); a path outside the target's base keeps its path on the ingress.
 * Userinfo is dropped.
 */
export function toPublicUrl(value: string, m: UrlMapping): string {
  let asBrowser: URL;
  try {
    asBrowser = new URL(value, m.ingress);
  } catch {
    return value;
  }
  if (asBrowser.origin === m.ingress.origin) return value;
  for (const route of m.routes) {
    let asUpstream: URL;
    try {
      asUpstream = new URL(value, route.target);
    } catch {
      continue;
    }
    if (sameServer(asUpstream, route.target)) return mapped(asUpstream, route, m.ingress);
  }
  return value;
}

function mapped(u: URL, route: UrlMapping['routes'][number], ingress: URL): string {
  const targetBase = route.target.pathname.replace(/\/$/, '');
  const ingressBase = ingress.pathname.replace(/\/$/, '');
  const inside = targetBase === '' || u.pathname === targetBase || u.pathname.startsWith(`${targetBase}/`);
  const path = inside ? `${ingressBase}${route.prefix === '/' ? '' : route.prefix}${u.pathname.slice(targetBase.length)}` : `${ingressBase}${u.pathname}`;
  return `${ingress.origin}${path || '/'}${u.search}${u.hash}`;
}

/**
 * `Refresh: <delay>[;|,] [url=]<url>` read as HTML reads it (browsers apply the header that way):
 * a quoted URL ends at the matching quote, whatever follows. The URL is mapped with
 * {@link toPublicUrl}. `null` when the URL cannot be read: the header is then dropped rather than
 * passed on for a browser to read its own way. Scanned by hand, no backtracking on upstream text.
 */
export function refreshToPublic(value: string, m: UrlMapping): string | null {
  let i = 0;
  const skip = (chars: string) => {
    while (i < value.length && chars.includes(value[i])) i++;
  };
  skip(' \t');
  const delayStart = i;
  skip('0123456789.');
  if (i === delayStart) return null;
  const delay = value.slice(delayStart, i);
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
  if (quote) {
    const end = url.indexOf(quote, 1);
    url = url.slice(1, end < 0 ? undefined : end);
  }
  url = url.trim();
  if (!url) return value;
  try {
    new URL(url, m.ingress);
  } catch {
    return null;
  }
  const mappedUrl = toPublicUrl(url, m);
  return mappedUrl === url ? value : `${delay}; url=${mappedUrl}`;
}

/**
 * Whether a header value still names an upstream's server anywhere: duplicate headers arrive
 * joined with `, `, so besides the literal `//host:port`, each piece is read as a URL (a `Refresh`
 * piece without its delay).
 */
export function namesUpstream(value: string, m: UrlMapping): boolean {
  // Spelled out anywhere, even inside a path that mapping made out of a joined value.
  const text = value.toLowerCase().replaceAll('\\', '/');
  if (m.routes.some((route) => text.includes(`//${route.target.host.toLowerCase()}`))) return true;
  return value.split(',').some((piece) => {
    const url = piece.replace(/^\s*[\d.]+\s*;?\s*(?:url\s*=\s*)?/i, '').trim().replace(/^['"]|['"]$/g, '');
    if (!url) return false;
    for (const route of m.routes) {
      try {
        if (new URL(url, m.ingress).origin !== m.ingress.origin && sameServer(new URL(url, route.target), route.target)) return true;
      } catch {
        // not a URL: names nothing
      }
    }
    return false;
  });
}
