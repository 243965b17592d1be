// A tiny "browser" for integration tests: a cookie jar, manual redirects followed across origins
// (app ↔ IdP), and submission of the self-submitting forms an IdP uses (oidc-provider's logout
// confirmation and form_post pages). Enough to drive a login or logout without Playwright, and
// explicit about every hop so tests can assert on them.
//
// Simplifications, on purpose: cookies are keyed by host:port (a real browser ignores the port —
// keying by it keeps the IdP's cookies out of requests to the app, which is what tests reason
// about), Domain and Secure are ignored (everything is loopback http), Path matches by prefix.

import { parseForms, type ParsedForm } from './forms';
import { NAVIGATION_HEADERS, httpRequest } from './transport';

export interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** ms since epoch; undefined = session cookie. */
  expires?: number;
  httpOnly: boolean;
  sameSite?: string;
  /** The Set-Cookie line as received (to assert on attributes). */
  raw: string;
}

export interface Hop {
  method: string;
  url: string;
  status: number;
  location?: string;
}

export interface Page {
  /** URL of the last response fetched. */
  url: string;
  status: number;
  headers: Headers;
  body: string;
  /** Every request made, in order, with its status and Location. */
  hops: Hop[];
  /** Set when following stopped at a redirect because `stopAt` matched its target. */
  stoppedAt?: string;
}

export interface FollowOptions {
  maxHops?: number;
  /** Initial request (method, body, headers). Later hops are plain navigations. */
  init?: RequestInit;
  /** Don't fetch a redirect (or auto-form) target for which this returns true; return the last
   *  response instead. `hops` so far are passed along (the last one is the response pointing there). */
  stopAt?: (next: URL, hops: Hop[]) => boolean;
  /** Submit pages that submit themselves via script (default true), as a browser would. */
  submitAutoForms?: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function parseSetCookie(line: string, now: number): StoredCookie & { deleted: boolean } {
  const [pair, ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
  const value = eq === -1 ? '' : pair.slice(eq + 1).trim();
  let path = '/';
  let expires: number | undefined;
  let maxAge: number | undefined;
  let httpOnly = false;
  let sameSite: string | undefined;
  for (const a of attrs) {
    const i = a.indexOf('=');
    const key = (i === -1 ? a : a.slice(0, i)).trim().toLowerCase();
    const val = i === -1 ? '' : a.slice(i + 1).trim();
    if (key === 'path' && val.startsWith('/')) path = val;
    else if (key === 'expires') {
      const t = Date.parse(val);
      if (!Number.isNaN(t)) expires = t;
    } else if (key === 'max-age') {
      const n = Number(val);
      if (Number.isFinite(n)) maxAge = n;
    } else if (key === 'httponly') httpOnly = true;
    else if (key === 'samesite') sameSite = val;
  }
  // Max-Age wins over Expires (RFC 6265 §5.3).
  if (maxAge !== undefined) expires = now + maxAge * 1000;
  const deleted = expires !== undefined && expires <= now;
  return { name, value, path, expires, httpOnly, sameSite, raw: line, deleted };
}

function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

export class Browser {
  /** host:port → (name + '\0' + path) → cookie. */
  readonly cookies = new Map<string, Map<string, StoredCookie>>();
  /** Sent with every request (lowest precedence). */
  readonly defaultHeaders: Record<string, string>;

  constructor(defaultHeaders: Record<string, string> = {}) {
    this.defaultHeaders = defaultHeaders;
  }

  private jar(url: URL): Map<string, StoredCookie> {
    let jar = this.cookies.get(url.host);
    if (!jar) {
      jar = new Map();
      this.cookies.set(url.host, jar);
    }
    return jar;
  }

  /** The Cookie header this browser would send to `url` (undefined when none). */
  cookieHeader(url: string | URL): string | undefined {
    const u = new URL(url);
    const now = Date.now();
    const jar = this.cookies.get(u.host);
    if (!jar) return undefined;
    const matching = [...jar.values()]
      .filter((c) => (c.expires === undefined || c.expires > now) && pathMatches(c.path, u.pathname))
      // Longer paths first, as browsers do.
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  /** All live cookies for `url`'s host:port (any path). */
  cookiesFor(url: string | URL): StoredCookie[] {
    const now = Date.now();
    return [...(this.cookies.get(new URL(url).host)?.values() ?? [])].filter((c) => c.expires === undefined || c.expires > now);
  }

  cookie(url: string | URL, name: string): StoredCookie | undefined {
    return this.cookiesFor(url).find((c) => c.name === name);
  }

  /** Plant or overwrite a cookie (tampering tests). */
  setCookie(url: string | URL, name: string, value: string, path = '/'): void {
    this.jar(new URL(url)).set(`${name}\0${path}`, { name, value, path, httpOnly: false, raw: `${name}=${value}; Path=${path}` });
  }

  deleteCookie(url: string | URL, name: string): void {
    const jar = this.cookies.get(new URL(url).host);
    if (!jar) return;
    for (const [key, c] of jar) if (c.name === name) jar.delete(key);
  }

  clearCookies(): void {
    this.cookies.clear();
  }

  /** Store the Set-Cookie headers of a response received from `url`. */
  storeCookies(url: string | URL, res: Response): void {
    const u = new URL(url);
    const now = Date.now();
    for (const line of res.headers.getSetCookie()) {
      const c = parseSetCookie(line, now);
      if (!c.name) continue;
      const jar = this.jar(u);
      const key = `${c.name}\0${c.path}`;
      if (c.deleted) jar.delete(key);
      else {
        const { deleted: _deleted, ...cookie } = c;
        jar.set(key, cookie);
      }
    }
  }

  /** One request, no redirect following, cookies sent and stored. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(this.defaultHeaders);
    new Headers(init.headers).forEach((v, k) => headers.set(k, v));
    const cookie = this.cookieHeader(url);
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    const res = await httpRequest(url, { ...init, headers });
    this.storeCookies(url, res);
    return res;
  }

  get(url: string | URL, init: RequestInit = {}): Promise<Response> {
    return this.request(url, { ...init, method: 'GET' });
  }

  /** POST a urlencoded form. */
  post(url: string | URL, form: Record<string, string> | URLSearchParams, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    return this.request(url, { ...init, method: 'POST', headers, body: new URLSearchParams(form).toString() });
  }

  /** Navigate to `url` like a browser: navigation headers, redirects followed across origins,
   *  self-submitting forms submitted. Returns the last page with its body read. */
  async follow(url: string | URL, options: FollowOptions = {}): Promise<Page> {
    const maxHops = options.maxHops ?? 20;
    const autoForms = options.submitAutoForms ?? true;
    const hops: Hop[] = [];
    let current = new URL(url);
    let init: RequestInit = { ...options.init, headers: { ...NAVIGATION_HEADERS, ...headersObject(options.init?.headers) } };
    let previousOrigin: string | undefined;

    for (;;) {
      if (hops.length >= maxHops) throw new Error(`too many hops (${maxHops}):\n${formatHops(hops)}`);
      const method = (init.method ?? 'GET').toUpperCase();
      const headers = headersObject(init.headers);
      if (previousOrigin !== undefined) {
        headers['sec-fetch-site'] = previousOrigin === current.origin ? 'same-origin' : 'cross-site';
      }
      const res = await this.request(current, { ...init, method, headers });
      const location = res.headers.get('location') ?? undefined;
      hops.push({ method, url: current.href, status: res.status, location });

      if (REDIRECTS.has(res.status) && location) {
        await res.body?.cancel();
        const next = new URL(location, current);
        if (options.stopAt?.(next, hops)) {
          return { url: current.href, status: res.status, headers: res.headers, body: '', hops, stoppedAt: next.href };
        }
        // 307/308 repeat the method and body; the others become a GET.
        const keep = res.status === 307 || res.status === 308;
        init = keep
          ? { ...init, headers: { ...NAVIGATION_HEADERS, ...headers } }
          : { method: 'GET', headers: { ...NAVIGATION_HEADERS } };
        previousOrigin = current.origin;
        current = next;
        continue;
      }

      const body = await res.text();
      const isHtml = (res.headers.get('content-type') ?? '').includes('html');
      if (autoForms && res.status === 200 && isHtml && /\.submit\(\)/.test(body)) {
        const [form] = parseForms(body, current.href);
        if (form) {
          const action = new URL(form.action);
          if (options.stopAt?.(action, hops)) {
            return { url: current.href, status: res.status, headers: res.headers, body, hops, stoppedAt: action.href };
          }
          previousOrigin = current.origin;
          if (form.method === 'POST') {
            init = {
              method: 'POST',
              headers: { ...NAVIGATION_HEADERS, 'content-type': 'application/x-www-form-urlencoded', origin: current.origin },
              body: new URLSearchParams(form.fields).toString(),
            };
          } else {
            for (const [k, v] of Object.entries(form.fields)) action.searchParams.set(k, v);
            init = { method: 'GET', headers: { ...NAVIGATION_HEADERS } };
          }
          current = action;
          continue;
        }
      }
      return { url: current.href, status: res.status, headers: res.headers, body, hops };
    }
  }

  /** Submit `form` (fields merged with `values`) and follow from there. */
  submit(form: ParsedForm, values: Record<string, string> = {}, options: Omit<FollowOptions, 'init'> = {}): Promise<Page> {
    const fields = { ...form.fields, ...values };
    if (form.method === 'GET') {
      const u = new URL(form.action);
      for (const [k, v] of Object.entries(fields)) u.searchParams.set(k, v);
      return this.follow(u, options);
    }
    return this.follow(form.action, {
      ...options,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(form.action).origin },
        body: new URLSearchParams(fields).toString(),
      },
    });
  }
}

function headersObject(h: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(h).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

export function formatHops(hops: Hop[]): string {
  return hops.map((h) => `${h.method} ${h.url} → ${h.status}${h.location ? ` ${h.location}` : ''}`).join('\n');
}
