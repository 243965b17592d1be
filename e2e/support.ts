// Browser-test support: Debian's Chromium driven by Playwright (no browser download is possible,
// see PITFALLS "Playwright"), a context that can only reach loopback hosts, the dev IdP's login
// form filled in like a person would, and screenshots under test-results/screenshots/ (gitignored).
//
//   const browser = await launchChromium();
//   after(() => browser.close());
//   const page = await newPage(browser);
//   await page.goto(stack.appUrl + '/');

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright';
import { ROOT } from '../test/harness/app';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium without the sandbox (containers), GPU, QUIC or any background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Upper bound for one Playwright action or wait; a hang fails with a message instead of the
 *  test runner's timeout. */
export const ACTION_TIMEOUT_MS = 15_000;

export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

interface Closable {
  close(): Promise<unknown>;
}

/** Starts things in parallel (stacks, the browser). If one fails, the others that did start are
 *  closed before the error is thrown: a Chromium or an app left running would keep the test
 *  process alive after a failed `before`. */
export async function startTogether<T extends readonly Closable[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts as readonly Promise<Closable>[]);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.allSettled(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw failure.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Closable>).value) as unknown as T;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A fresh context (its own cookie jar and storage). Requests to anything but loopback are
 *  aborted: the tests are hermetic, and the dev IdP's page imports a web font from the internet,
 *  which would otherwise hold up its `load` event on a machine without network. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  await context.route(
    (url) => (url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname),
    (route) => route.abort('blockedbyclient'),
  );
  return context;
}

/** A page in a fresh context. */
export async function newPage(browser: Browser): Promise<Page> {
  return (await newContext(browser)).newPage();
}

/** Saves a full-page PNG as test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** True when `page` shows the dev IdP (oidc-provider devInteractions) login form. */
export function isIdpLoginPage(page: Page, issuer: string): boolean {
  const u = new URL(page.url());
  return u.origin === new URL(issuer).origin && u.pathname.startsWith('/interaction/');
}

/** Waits for the dev IdP's login form and returns its parts (by what a person sees). */
export async function idpLoginForm(page: Page, issuer: string) {
  await page.waitForURL((u) => u.origin === new URL(issuer).origin && u.pathname.startsWith('/interaction/'));
  const form = page.locator('form', { has: page.locator('input[name="login"]') });
  await form.waitFor();
  return {
    login: form.locator('input[name="login"]'),
    password: form.locator('input[name="password"]'),
    submit: form.getByRole('button', { name: 'Sign-in' }),
    cancel: page.getByRole('link', { name: '[ Cancel ]' }),
  };
}

/** Types `login` / `password` into the dev IdP form and submits it. Resolves once the browser has
 *  left the IdP and the page the redirects end on has loaded. */
export async function signInAtIdp(page: Page, issuer: string, login = 'alice', password = 'correct horse'): Promise<void> {
  const form = await idpLoginForm(page, issuer);
  await form.login.fill(login);
  await form.password.fill(password);
  await Promise.all([
    page.waitForURL((u) => u.origin !== new URL(issuer).origin, { waitUntil: 'load' }),
    form.submit.click(),
  ]);
}

/** The JSON document the browser shows (an upstream answer opened as a page). */
export async function pageJson<T = Record<string, unknown>>(page: Page): Promise<T> {
  // Chromium shows JSON in a <pre>; newer versions add a "pretty print" control next to it.
  const text = await page.locator('body > pre').first().textContent();
  return JSON.parse(text ?? '') as T;
}

/** The redirect chain that ended in `response`, first request first. */
export function redirectChain(response: Response): string[] {
  const urls: string[] = [];
  for (let r: ReturnType<Response['request']> | null = response.request(); r; r = r.redirectedFrom()) urls.unshift(r.url());
  return urls;
}

/** What a `fetch()` from page script sees: the page's own origin, its cookies, default
 *  `redirect: 'follow'` (so a redirect would show up as `redirected` or an opaque answer). */
export interface PageFetchResult {
  status: number;
  type: string;
  redirected: boolean;
  url: string;
  contentType: string | null;
  location: string | null;
  body: string;
}

export function pageFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<PageFetchResult> {
  return page.evaluate(
    async ([u, i]) => {
      const r = await fetch(u, i);
      return {
        status: r.status,
        type: r.type,
        redirected: r.redirected,
        url: r.url,
        contentType: r.headers.get('content-type'),
        location: r.headers.get('location'),
        body: await r.text(),
      };
    },
    [url, init] as const,
  );
}
