// A tiny "browser" for integration tests: a cookie jar, manual redirects followed across origins
// (app ↔ IdP), and submission of the self-submitting forms an IdP uses (oidc-provider's logout
// confirmation and form_post pages). Enough to drive a login or logout without Playwright, and
// explicit about every hop so tests can assert on them.
//
// Transport: node:http, not global fetch. Node's fetch (undici) always sends
// `Sec-Fetch-Mode: cors`, overwriting any value given, so a fetch() can never look like a
// navigation to Gatehouse (SPEC §3 decides navigation vs. fetch by Sec-Fetch-*). `httpRequest`
// sends exactly the headers it is given and returns a standard (streaming) Response.
//
// Simplifications, on purpose: cookies are keyed by host:port (a real browser ignores the port —
// keying by it keeps the IdP's cookies out of requests to the app, which is what tests reason
// about), Domain and Secure are ignored (everything is loopback http), Path matches by prefix.

import { Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

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

export interface ParsedForm {
  action: string;
  method: string;
  /** Named inputs with their (decoded) values, hidden or not. */
  fields: Record<string, string>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type RequestBody = string | URLSearchParams | Uint8Array | ArrayBuffer | null | undefined;

function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('httpRequest: body must be a string, URLSearchParams, Uint8Array or ArrayBuffer');
}

/** One HTTP/1.1 request with exactly the given headers (plus Host, and Content-Length for a
 *  body), no redirect following, no decompression. Returns a standard Response whose body streams
 *  (server-sent events arrive chunk by chunk). Use it instead of fetch() whenever the request
 *  headers matter (Sec-Fetch-*, Accept-Encoding). */
export function httpRequest(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`unsupported URL ${u.href}`);
  const method = (init.method ?? 'GET').toUpperCase();
  const payload = bodyBytes(init.body as RequestBody);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => {
    headers[k] = v;
  });
  if (payload && headers['content-length'] === undefined) headers['content-length'] = String(payload.length);
  const transport = u.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = transport.request(u, { method, headers, signal: init.signal ?? undefined }, (res) => {
      const out = new Headers();
      for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      const status = res.statusCode ?? 0;
      const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
      if (noBody) res.resume();
      const body = noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      const response = new Response(body, { status, statusText: res.statusMessage, headers: out });
      Object.defineProperty(response, 'url', { value: u.href });
      resolve(response);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Headers Chromium sends on a top-level navigation; Gatehouse decides navigation vs fetch by them. */
export const NAVIGATION_HEADERS: Record<string, string> = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'sec-fetch-site': 'none',
  'sec-fetch-user': '?1',
};

/** Headers of a `fetch()` from page script (not a navigation). */
export const FETCH_HEADERS: Record<string, string> = {
  accept: 'application/json',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
  'sec-fetch-site': 'same-origin',
};

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
}

/** All forms of an HTML page, with actions resolved against `pageUrl`. Regex-based: fine for the
 *  simple server-rendered forms of an IdP, not a general HTML parser. */
export function parseForms(html: string, pageUrl: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  for (let m = formRe.exec(html); m; m = formRe.exec(html)) {
    const openTag = `<form ${m[1]}>`;
    const fields: Record<string, string> = {};
    const inputRe = /<input\b[^>]*>/gi;
    for (let i = inputRe.exec(m[2]); i; i = inputRe.exec(m[2])) {
      const name = attr(i[0], 'name');
      if (name) fields[name] = attr(i[0], 'value') ?? '';
    }
    forms.push({
      action: new URL(attr(openTag, 'action') ?? pageUrl, pageUrl).href,
      method: (attr(openTag, 'method') ?? 'GET').toUpperCase(),
      fields,
    });
  }
  return forms;
}

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

export interface LoginOptions {
  /** Login name typed into the dev IdP form (becomes `sub`). Default 'alice'. */
  login?: string;
  password?: string;
  /** `redirect` query of /oauth2/login. */
  redirect?: string;
  /** Extra /oauth2/login query parameters (level, locale, prompt...). */
  query?: Record<string, string>;
  /** Stop after the callback instead of fetching the final target (default false). */
  stopAfterCallback?: boolean;
}

export interface LoginResult {
  /** Where the callback sent the browser (absolute URL). */
  target: string;
  /** The final page (the target, or the callback redirect with `stopAfterCallback`). */
  page: Page;
  /** The /oauth2/callback hop. */
  callback: Hop;
  /** Every hop of the whole login, in order. */
  hops: Hop[];
}

/** Log in through Gatehouse and the dev IdP: /oauth2/login → IdP login form → (consent, if any)
 *  → /oauth2/callback → target. Throws with the hop list if it goes anywhere else. */
export async function loginViaIdp(browser: Browser, appUrl: string, options: LoginOptions = {}): Promise<LoginResult> {
  const app = new URL(appUrl);
  const loginUrl = new URL(`${app.href.replace(/\/+$/, '')}/oauth2/login`);
  if (options.redirect !== undefined) loginUrl.searchParams.set('redirect', options.redirect);
  for (const [k, v] of Object.entries(options.query ?? {})) loginUrl.searchParams.set(k, v);

  const hops: Hop[] = [];
  const isCallback = (u: URL) => u.origin === app.origin && u.pathname.endsWith('/oauth2/callback');
  // With stopAfterCallback: don't fetch whatever the callback redirects to.
  const stopAt = (_next: URL, sofar: Hop[]) =>
    !!options.stopAfterCallback && sofar.length > 0 && isCallback(new URL(sofar[sofar.length - 1].url));
  let callback: Hop | undefined;
  const record = (p: Page) => {
    hops.push(...p.hops);
    callback ??= p.hops.find((h) => isCallback(new URL(h.url)));
  };

  let page = await browser.follow(loginUrl, { stopAt });
  record(page);

  // Expect the IdP's login form; submit it, then a consent form if one shows (it should not: the
  // dev IdP implies consent for its clients). A few steps at most, then give up with the hops.
  for (let step = 0; step < 4 && !callback; step++) {
    const forms = parseForms(page.body, page.url);
    const loginForm = forms.find((f) => f.fields.prompt === 'login' || 'login' in f.fields);
    const consentForm = forms.find((f) => f.fields.prompt === 'consent');
    if (loginForm) {
      page = await browser.submit(
        loginForm,
        { login: options.login ?? 'alice', password: options.password ?? 'any-password' },
        { stopAt },
      );
    } else if (consentForm) {
      page = await browser.submit(consentForm, {}, { stopAt });
    } else {
      break;
    }
    record(page);
  }

  if (!callback) {
    throw new Error(`login did not reach ${app.origin}/oauth2/callback; last page ${page.status} ${page.url}:\n${formatHops(hops)}\n${page.body.slice(0, 500)}`);
  }
  const target = callback.location ? new URL(callback.location, callback.url).href : page.url;
  return { target, page, callback, hops };
}

/** Log out through Gatehouse and the dev IdP: /oauth2/logout → IdP end_session (auto-confirmed)
 *  → /oauth2/logout/callback → final target. */
export async function logoutViaIdp(browser: Browser, appUrl: string, options: { redirect?: string } = {}): Promise<Page> {
  const u = new URL(`${appUrl.replace(/\/+$/, '')}/oauth2/logout`);
  if (options.redirect !== undefined) u.searchParams.set('redirect', options.redirect);
  return browser.follow(u);
}
