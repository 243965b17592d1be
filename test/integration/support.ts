// Helpers shared by the integration suites. Everything here drives or inspects the real stack;
// nothing stands in for a part of it. (Waiting for a condition: `eventually` in ../harness/wait.)

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import type { Idp } from '../../dev/idp';
import type { RecordedRequest } from '../../dev/upstream';
import { Browser, FETCH_HEADERS, NAVIGATION_HEADERS, httpRequest, loginViaIdp, parseForms, sessionCookieOf, type Hop, type Page } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';

/** The two session stores every scenario runs against: cookie store and Redis store. */
export const STORES = [
  { name: 'cookie store', redis: false },
  { name: 'Redis store', redis: true },
] as const;

/** Gatehouse's session cookie under the default prefix (SPEC §2 `COOKIE_PREFIX`). */
export const SESSION_COOKIE = 'gatehouse.session';

export interface RawResponse {
  status: number;
  /** Node's lowercase header object. */
  headers: http.IncomingHttpHeaders;
  /** Name/value pairs as received, in order. */
  rawHeaders: string[];
  body: string;
}

/**
 * One request with exactly these header lines, in this order, duplicates and casing preserved
 * (`httpRequest` goes through `Headers`, which lowercases and merges duplicates). Host is added
 * when absent: Node sends none for a raw header list.
 */
export function rawRequest(url: string | URL, headerLines: Array<[string, string]>, method = 'GET'): Promise<RawResponse> {
  const u = new URL(url);
  const lines = headerLines.some(([name]) => name.toLowerCase() === 'host') ? headerLines : [['Host', u.host] as [string, string], ...headerLines];
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: lines.flat() as unknown as http.OutgoingHttpHeaders },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Values of a header in a raw name/value list, matched case-insensitively. */
export function rawValues(rawHeaders: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name.toLowerCase()) out.push(rawHeaders[i + 1]);
  return out;
}

/** The recorded upstream request for `path` made after `since` (index into `requests`). */
export function upstreamRequestSince(requests: RecordedRequest[], since: number, path: string): RecordedRequest {
  const found = requests.slice(since).filter((r) => r.url.split('?')[0] === path);
  assert.equal(found.length, 1, `expected exactly one upstream request for ${path}, got ${found.length}`);
  return found[0];
}

/** The `Cache-Control` directives of a response, lowercased. */
function cacheDirectives(value: string | null | undefined): string[] {
  return (value ?? '').split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
}

export function assertNoStore(value: string | null | undefined, what: string): void {
  assert.ok(cacheDirectives(value).includes('no-store'), `${what}: Cache-Control should say no-store, got ${JSON.stringify(value)}`);
}

/** Every header name and value of a `Headers` (or raw list) as plain pairs. */
export function headerPairs(headers: Headers | string[]): Array<[string, string]> {
  if (Array.isArray(headers)) {
    const out: Array<[string, string]> = [];
    for (let i = 0; i < headers.length; i += 2) out.push([headers[i], headers[i + 1]]);
    return out;
  }
  const out: Array<[string, string]> = [];
  headers.forEach((v, k) => out.push([k, v]));
  for (const c of headers.getSetCookie()) out.push(['set-cookie', c]);
  return out;
}

/** Every Gatehouse session cookie (`.session` and its chunks) as name → value. */
export function sessionCookies(browser: Browser, appUrl: string): Array<[string, string]> {
  return browser
    .cookiesFor(appUrl)
    .filter((c) => c.name === SESSION_COOKIE || c.name.startsWith(`${SESSION_COOKIE}.`))
    .map((c) => [c.name, c.value]);
}

/** The name and value of a Set-Cookie line. */
export function cookieNameValue(line: string): [string, string] {
  const pair = line.split(';')[0];
  const eq = pair.indexOf('=');
  return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
}

/** Set-Cookie lines of a response that set (not clear) a session cookie. */
export function sessionCookiesSet(headers: Headers): string[] {
  return headers.getSetCookie().filter((line) => {
    const [name, value] = cookieNameValue(line);
    const expired = line.split(';').slice(1).some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
    return (name === SESSION_COOKIE || name.startsWith(`${SESSION_COOKIE}.`)) && value !== '' && !expired;
  });
}

/** Headers of a page navigation in a test browser. */
export const NAV = NAVIGATION_HEADERS;

/**
 * Starts a login in `browser` and stops before the IdP is visited: the 302 response, the login
 * cookie it set, and the `state` the IdP received (PAR body or query, as the IdP recorded it).
 */
export async function startLogin(browser: Browser, appUrl: string, idp: Idp, redirect?: string): Promise<{ res: Response; location: URL; state: string }> {
  const url = new URL(`${appUrl}/oauth2/login`);
  if (redirect !== undefined) url.searchParams.set('redirect', redirect);
  const before = idp.authorizationRequests.length;
  const res = await browser.get(url, { headers: NAV });
  await res.body?.cancel();
  assert.equal(res.status, 302, 'login should redirect to the IdP');
  const location = new URL(res.headers.get('location')!, url);
  assert.equal(location.origin, new URL(idp.issuer).origin, 'login should redirect to the IdP');
  const recorded = idp.authorizationRequests.slice(before);
  assert.equal(recorded.length, 1, 'one authorization request should reach the IdP (PAR body or query)');
  return { res, location, state: recorded[0].state };
}

/** Follows an IdP URL until the login form shows, returning that page. */
export async function openIdpLoginForm(browser: Browser, idpUrl: URL | string): Promise<Page> {
  const page = await browser.follow(idpUrl);
  assert.ok(parseForms(page.body, page.url).some((f) => 'login' in f.fields), `expected the IdP login form, got ${page.status} ${page.url}`);
  return page;
}

const isCallbackHop = (h: Hop) => new URL(h.url).pathname.endsWith('/oauth2/callback');

/**
 * Submits the IdP login form on `page` (any login name works) and follows until the app's
 * callback has answered (it IS fetched); where the callback redirects is not. Returns the callback
 * hop: its status and Location are the callback's answer.
 */
export async function submitIdpLogin(browser: Browser, page: Page, login = 'alice'): Promise<Hop> {
  const form = parseForms(page.body, page.url).find((f) => 'login' in f.fields);
  assert.ok(form, 'no login form on the page');
  const done = await browser.submit(form, { login, password: 'any' }, { stopAt: (_n, hops) => hops.length > 0 && isCallbackHop(hops[hops.length - 1]) });
  const callback = done.hops.find(isCallbackHop);
  assert.ok(callback, `the IdP did not send the browser to the callback:\n${done.hops.map((h) => `${h.status} ${h.url}`).join('\n')}`);
  return callback;
}

/**
 * A real login up to (not including) the callback: /oauth2/login → IdP login form → submitted.
 * Returns the callback URL the IdP redirected to, with its code and state, unfetched.
 */
export async function loginUpToCallback(browser: Browser, appUrl: string, idp: Idp, redirect?: string, login = 'alice'): Promise<{ callback: URL; state: string }> {
  const { location, state } = await startLogin(browser, appUrl, idp, redirect);
  const page = await openIdpLoginForm(browser, location);
  const form = parseForms(page.body, page.url).find((f) => 'login' in f.fields)!;
  const isCallback = (u: URL) => u.origin === new URL(appUrl).origin && u.pathname.endsWith('/oauth2/callback');
  const done = await browser.submit(form, { login, password: 'any' }, { stopAt: isCallback });
  assert.ok(done.stoppedAt, `the IdP did not redirect to the callback: ${done.status} ${done.url}`);
  return { callback: new URL(done.stoppedAt), state };
}

/** Lowercase body must hold no sign of a stack trace or internal file. */
export function assertNoStack(body: string): void {
  assert.doesNotMatch(body, /^\s+at\s+\S+/m, 'output must not contain a stack trace');
  assert.doesNotMatch(body, /node_modules|\.ts:\d+|\.js:\d+/, 'output must not name source files');
}

/** Value of an attribute of the element with this id. */
export function elementAttr(html: string, id: string, attr: string): string | undefined {
  const tag = new RegExp(`<[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  if (!tag) return undefined;
  const value = new RegExp(`\\b${attr}="([^"]*)"`).exec(tag)?.[1];
  return value?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** A token response of the IdP, as it sent it. */
export interface Issued {
  grantType: string;
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
}

/** Every token response the IdP sends, taken from its own `grant.success` event (the body as sent). */
export function recordIssuedTokens(idp: Idp): Issued[] {
  const issued: Issued[] = [];
  idp.provider.on('grant.success', (ctx: { oidc: { params?: Record<string, unknown> }; body: unknown }) => {
    const body = ctx.body as Record<string, string | undefined>;
    issued.push({ grantType: String(ctx.oidc.params?.grant_type), access_token: body.access_token, refresh_token: body.refresh_token, id_token: body.id_token });
  });
  return issued;
}

/** The latest token response of one grant type. */
export const lastIssued = (issued: Issued[], grantType: string): Issued | undefined => issued.filter((i) => i.grantType === grantType).at(-1);

export interface ApiCall {
  status: number;
  /** The access token the upstream received as `Bearer`, if any. */
  bearer?: string;
  setCookies: string[];
  headers: Headers;
}

/** One API call through Gatehouse from page script in `browser`; the echoing upstream must answer
 *  200, and the Authorization it received, if any, must be a Bearer token. */
export async function apiCall(browser: Browser, appUrl: string, path = '/api/whoami'): Promise<ApiCall> {
  const res = await browser.get(`${appUrl}${path}`, { headers: FETCH_HEADERS });
  const text = await res.text();
  assert.equal(res.status, 200, `${path} through Gatehouse: ${res.status} ${text.slice(0, 300)}`);
  const auth = (JSON.parse(text) as { headers: Record<string, string | undefined> }).headers.authorization;
  if (auth !== undefined) assert.match(auth, /^Bearer \S+$/);
  return { status: res.status, bearer: auth?.slice('Bearer '.length), setCookies: res.headers.getSetCookie(), headers: res.headers };
}

export interface Call {
  status: number;
  headers: Headers;
  text: string;
  /** How long the answer took. */
  ms: number;
  json(): Record<string, any>;
}

/** A request as page script would make it, with an explicit Cookie header (or none). */
export async function callApp(appUrl: string, path: string, cookie: string | undefined, method = 'GET'): Promise<Call> {
  const started = Date.now();
  const res = await httpRequest(`${appUrl}${path}`, {
    method,
    headers: { accept: 'application/json', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', ...(cookie ? { cookie } : {}) },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: Date.now() - started, json: () => JSON.parse(text) as Record<string, any> };
}

/** The Authorization header the upstream received with its latest request for `path`. */
export function bearerAt(stack: Stack, path: string): string | undefined {
  const rec = stack.upstream.last(path);
  assert.ok(rec, `no upstream request for ${path}`);
  const auth = rec.headers.authorization;
  return typeof auth === 'string' ? auth : undefined;
}

/** Logs `login` in with a fresh browser, stopping after the callback; returns the browser and the
 *  Cookie header it would send the app. */
export async function loginFresh(appUrl: string, login = 'alice'): Promise<{ browser: Browser; cookie: string }> {
  const browser = new Browser();
  await loginViaIdp(browser, appUrl, { login, stopAfterCallback: true });
  const cookie = browser.cookieHeader(appUrl);
  assert.ok(cookie && cookie.includes(`${SESSION_COOKIE}=`), 'the callback should set a session cookie');
  return { browser, cookie };
}

/** A gated stack (auto-login on, `/api/public/**` ignored), the `Host` its requests carry, and the
 *  `Cookie` header of a logged-in browser: what the raw-socket attack suites start from. */
export async function startGatedStack(): Promise<{ stack: Stack; host: string; session: string }> {
  const stack = await startStack({ env: { AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/api/public/**' } });
  try {
    return { stack, host: new URL(stack.appUrl).host, session: (await sessionCookieOf(stack.appUrl)).cookie };
  } catch (error) {
    await stack.close();
    throw error;
  }
}
