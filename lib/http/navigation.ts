/**
 * Navigation vs. fetch (SPEC §3): a browser navigation gets redirects (to login, to the error
 * page); anything else — fetch, XHR, images, curl — gets a JSON status it can act on.
 */

/**
 * Whether the request is a top-level browser navigation (SPEC §3 "Navigation vs. fetch").
 *
 * A GET (HEAD is not) with `Sec-Fetch-Mode: navigate` and `Sec-Fetch-Dest: document`. Only when
 * both of those headers are absent (older browsers, non-browser clients) does `Accept` decide:
 * it must list `text/html` itself with a non-zero `q`. Wildcards (`text/*`, the any-type range)
 * do not count: curl and `fetch()` send the any-type range by default. A request with only one
 * of the two Sec-Fetch headers is not a navigation: no browser sends that, so it gets the plain
 * JSON answer rather than a redirect.
 */
/** The one thing navigation detection needs from request headers (a `Headers` has it). */
export interface HeaderReader { get(name: string): string | null }

export function isNavigation(method: string, headers: HeaderReader): boolean {
  if (method.toUpperCase() !== 'GET') return false;
  const mode = headers.get('sec-fetch-mode');
  const dest = headers.get('sec-fetch-dest');
  if (mode !== null && dest !== null) {
    return mode.trim().toLowerCase() === 'navigate' && dest.trim().toLowerCase() === 'document';
  }
  if (mode !== null || dest !== null) return false;
  return acceptsHtml(headers.get('accept'));
}

/**
 * Whether the request carries any `Sec-Fetch-*` header (SPEC §3): the login and logout endpoints
 * answer such requests with 401 JSON instead of a redirect when they are not navigations.
 */
export function hasSecFetchHeaders(headers: Headers): boolean {
  for (const name of headers.keys()) {
    if (name.startsWith('sec-fetch-')) return true;
  }
  return false;
}

/** `text/html` listed as a media range (RFC 9110 §12.5.1) whose `q` is valid and above zero. */
function acceptsHtml(accept: string | null): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'text/html') return false;
    const q = params.find((param) => /^q\s*=/.test(param));
    if (q === undefined) return true;
    const value = q.replace(/^q\s*=\s*/, '');
    // RFC 9110 qvalue: 0 to 1 with at most three decimals; anything else is malformed and ignored.
    return /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value) && Number(value) > 0;
  });
}
