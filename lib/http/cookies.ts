/**
 * Cookie names, parsing, and Gatehouse's own `Set-Cookie`s as values with their one serialisation
 * (SPEC §2 `COOKIE_PREFIX`, §5 "Cookies").
 * Names live here only; nothing else spells them out.
 */
export interface CookieScope {
  prefix: string;
  /** Ingress path: cookies are scoped to it. */
  path: string;
  secure: boolean;
  /** `SSO_SESSION_COOKIE_NAME` in SSO modes (SPEC §8); `<prefix>.session` otherwise. */
  sessionName?: string;
  /** SSO server: the session cookie is set with `Domain=` this and `Path=/` (SPEC §8). */
  sessionDomain?: string;
  /** `Domain=` attribute of a cookie serialised with this scope. */
  domain?: string;
}

/** Cookies of a request that came through an ingress with this base path ('' for the root). */
export const cookieScope = (
  config: { cookiePrefix: string; cookieSecure: boolean; sso?: { mode: string; sessionCookieName: string; domain?: string } | null },
  basePath: string,
): CookieScope => ({
  prefix: config.cookiePrefix,
  path: basePath || '/',
  secure: config.cookieSecure,
  ...(config.sso ? { sessionName: config.sso.sessionCookieName } : {}),
  ...(config.sso?.mode === 'server' && config.sso.domain ? { sessionDomain: config.sso.domain } : {}),
});

/** The scope the session cookie itself is written with: the SSO domain and `/` on an SSO server. */
export const sessionCookieScope = (scope: CookieScope): CookieScope =>
  scope.sessionDomain ? { ...scope, path: '/', domain: scope.sessionDomain } : scope;

export const cookieNames = (prefix: string, sessionName = `${prefix}.session`) => ({
  session: sessionName,
  /** Continuation chunks of a large session cookie: `<session>.1`, `.2`, … */
  sessionChunk: (n: number) => `${sessionName}.${n}`,
  login: (id: string) => `${prefix}.login.${id}`,
  loginPrefix: `${prefix}.login.`,
  logout: `${prefix}.logout`,
});

/** True for every cookie Gatehouse owns: these never reach an upstream (SPEC §4 item 3). */
export const isOwnCookie = (prefix: string, name: string, sessionName?: string) =>
  name === `${prefix}.session` || name.startsWith(`${prefix}.`) || (sessionName !== undefined && (name === sessionName || name.startsWith(`${sessionName}.`)));

/**
 * Whether a `Set-Cookie` from an upstream could plant or replace a cookie Gatehouse reads
 * (SPEC §4 item 5). Stricter than {@link isOwnCookie}: any case, the `__Secure-`/`__Host-`
 * prefixes, whitespace around the name, and a nameless cookie (`=gatehouse.session=x`, or no `=`
 * at all) whose value a browser sends back as `gatehouse.session=x`.
 */
export function shadowsOwnCookie(setCookie: string, prefix: string, sessionName?: string): boolean {
  const pair = setCookie.split(';', 1)[0];
  const eq = pair.indexOf('=');
  const name = (eq < 0 ? '' : pair.slice(0, eq)).trim();
  // A nameless cookie is sent back as its bare value: read that value as `name=value` again.
  const effective = name || pair.slice(eq + 1).split('=', 1)[0].trim();
  // Compared without case and without the browser's name prefixes on either side: a configured
  // `COOKIE_PREFIX=__Host-gh` is shadowed by `__host-GH.session` and by `gh.session` alike.
  const bare = (n: string) => n.toLowerCase().replace(/^__(?:secure|host)-/, '');
  return isOwnCookie(bare(prefix), bare(effective), sessionName === undefined ? undefined : bare(sessionName));
}

/** Most cookies a request may carry before we stop reading: a cookie bomb costs nothing. */
const MAX_COOKIES = 200;

/** The `Cookie` header cut after its first `max` cookies (the rest are never read, here or by Next). */
export function firstCookies(header: string, max: number): string {
  let at = -1;
  for (let n = 0; n < max; n++) {
    at = header.indexOf(';', at + 1);
    if (at < 0) return header;
  }
  return header.slice(0, at);
}

/** Parses a `Cookie` header into name → value (first occurrence wins, like browsers send them). */
export function parseCookies(header: string | null | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';', MAX_COOKIES)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** The `Cookie` header with our own cookies removed; `undefined` when nothing is left. */
export function foreignCookieHeader(header: string | undefined, prefix: string, sessionName?: string): string | undefined {
  if (!header) return undefined;
  const kept = header.split(';').map((p) => p.trim()).filter((part) => {
    const eq = part.indexOf('=');
    return part && !isOwnCookie(prefix, (eq < 0 ? part : part.slice(0, eq)).trim(), sessionName);
  });
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/**
 * One `Set-Cookie` of Gatehouse's own, as a value: what is set, for which path and domain, and for
 * how long. It stays a value through the session layer, the actions and the gate; the edge that
 * writes the answer serialises it ({@link serializeSetCookie}), once. Every cookie is `HttpOnly`
 * and `SameSite=Lax` (SPEC §5), so those are not fields.
 */
export interface SetCookie {
  name: string;
  value: string;
  path: string;
  domain?: string;
  secure: boolean;
  /** Whole seconds, never negative; absent for a cookie that lasts as long as the browser session. */
  maxAge?: number;
}

/** A cookie set in this scope, for `maxAgeSeconds` (rounded down, at least 0) when given. */
export function cookie(name: string, value: string, scope: CookieScope, maxAgeSeconds?: number): SetCookie {
  return {
    name,
    value,
    path: scope.path,
    ...(scope.domain ? { domain: scope.domain } : {}),
    secure: scope.secure,
    ...(maxAgeSeconds !== undefined ? { maxAge: Math.max(0, Math.floor(maxAgeSeconds)) } : {}),
  };
}

/** The cookie of that name removed from the browser: empty, `Max-Age=0`, in the scope it was set with. */
export const expired = (name: string, scope: CookieScope): SetCookie => cookie(name, '', scope, 0);

/** An expired cookie also carries a past `Expires`, for browsers that ignore `Max-Age`. */
const isExpired = (c: SetCookie) => c.value === '' && c.maxAge === 0;

/**
 * The `Set-Cookie` header of a value (RFC 6265 §4.1), attributes in a fixed order:
 * `name=value; Path; HttpOnly; SameSite=Lax[; Domain][; Secure][; Max-Age][; Expires]`.
 */
export function serializeSetCookie(c: SetCookie): string {
  const parts = [`${c.name}=${c.value}`, `Path=${c.path}`, 'HttpOnly', 'SameSite=Lax'];
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.secure) parts.push('Secure');
  if (c.maxAge !== undefined) parts.push(`Max-Age=${c.maxAge}`);
  if (isExpired(c)) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  return parts.join('; ');
}

/** The `Set-Cookie` header values of an answer: what every edge writes, in order. */
export const setCookieHeaders = (cookies: readonly SetCookie[]): string[] => cookies.map(serializeSetCookie);

/**
 * `earlier` followed by `later`, minus the entries of `earlier` that `later` sets again: one
 * `Set-Cookie` per name, so no browser has to guess which of two wins.
 */
export function overriddenBy(earlier: readonly SetCookie[], later: readonly SetCookie[]): SetCookie[] {
  const replaced = new Set(later.map((c) => c.name));
  return [...earlier.filter((c) => !replaced.has(c.name)), ...later];
}
