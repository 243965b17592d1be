// Log in and out the way a user does: through Gatehouse's /oauth2 endpoints and the dev IdP's
// forms, with the test browser.

import { parseForms } from './forms';
import { Browser, formatHops, type Hop, type Page } from './browser';

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

/** A fresh browser logged in through the IdP, and the `Cookie` header that carries its session
 *  (for raw-socket tests that send it themselves). Throws when no session cookie was set. */
export async function sessionCookieOf(appUrl: string, options: LoginOptions = {}): Promise<{ cookie: string; browser: Browser }> {
  const browser = new Browser();
  await loginViaIdp(browser, appUrl, { stopAfterCallback: true, ...options });
  const cookie = browser.cookieHeader(appUrl) ?? '';
  if (!/(^|; )[^=]+\.session=/.test(cookie)) throw new Error(`no session cookie after logging in: ${JSON.stringify(cookie)}`);
  return { cookie, browser };
}
