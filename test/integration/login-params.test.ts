// Login and logout parameters (SPEC §3) and the config knobs around them (SPEC §2: OIDC_ACR_VALUES,
// OIDC_UI_LOCALES, OIDC_SCOPES, OIDC_POST_LOGOUT_REDIRECT_URI, COOKIE_PREFIX, several INGRESS URLs),
// against the production build and the real dev IdP. What Gatehouse sends is read from the IdP's own
// record of each authorization request (the PAR body), never from Gatehouse.
//
//   NEXT_DIST_DIR=.next-params node --import tsx --test test/integration/login-params.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, formatHops, loginViaIdp, parseForms, type Hop, type Page } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { NAV, callApp, cookieNameValue } from './support';

const IDP = { acrValues: ['idporten-loa-substantial', 'idporten-loa-high'], uiLocales: ['nb', 'en'] };

/** `level`/`locale` → what the IdP must receive, with the configured defaults (A) and without (B). */
const LEVEL_LOCALE: Array<{ query: Record<string, string>; param: string; withDefault: string; without?: string }> = [
  { query: { level: 'idporten-loa-high' }, param: 'acr_values', withDefault: 'idporten-loa-high', without: 'idporten-loa-high' },
  { query: { level: 'idporten-loa-low' }, param: 'acr_values', withDefault: 'idporten-loa-substantial', without: undefined },
  { query: { level: 'idporten-loa-high idporten-loa-substantial' }, param: 'acr_values', withDefault: 'idporten-loa-substantial', without: undefined },
  { query: {}, param: 'acr_values', withDefault: 'idporten-loa-substantial', without: undefined },
  { query: { locale: 'en' }, param: 'ui_locales', withDefault: 'en', without: 'en' },
  { query: { locale: 'de' }, param: 'ui_locales', withDefault: 'nb', without: undefined },
  { query: {}, param: 'ui_locales', withDefault: 'nb', without: undefined },
];

interface Started {
  res: Response;
  /** Where the login sent the browser (the IdP). */
  location: URL;
  /** The authorization request as the IdP received it. */
  sent: Record<string, string>;
}

/** GET <base>/oauth2/login?<query> as a navigation; it must 302 to the IdP with one authorization request. */
async function startLogin(stack: Stack, browser: Browser, base: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Started> {
  const url = new URL(`${base}/oauth2/login`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const mark = stack.idp.authorizationRequests.length;
  const res = await browser.get(url, { headers: { ...NAV, ...headers } });
  const body = await res.text();
  assert.equal(res.status, 302, `${url}: ${res.status} ${body.slice(0, 300)}`);
  const location = new URL(res.headers.get('location')!, url);
  assert.equal(location.origin, new URL(stack.idp.issuer).origin, 'login redirects to the IdP');
  const sent = stack.idp.authorizationRequests.slice(mark);
  assert.equal(sent.length, 1, 'one authorization request reaches the IdP');
  return { res, location, sent: sent[0] };
}

/** From the IdP URL to the callback's answer (not followed): the login form, if shown, is submitted. */
async function finishLogin(browser: Browser, idpUrl: URL, base: string): Promise<{ callback: Hop; target: string; formShown: boolean }> {
  const isCallback = (h: Hop | undefined) => !!h && h.url.startsWith(`${base}/oauth2/callback`);
  const stopAt = (_next: URL, hops: Hop[]) => isCallback(hops.at(-1));
  let page: Page = await browser.follow(idpUrl, { stopAt });
  const hops = [...page.hops];
  const form = parseForms(page.body, page.url).find((f) => 'login' in f.fields);
  if (form) {
    page = await browser.submit(form, { login: 'alice', password: 'any' }, { stopAt });
    hops.push(...page.hops);
  }
  const callback = hops.find(isCallback);
  assert.ok(callback?.location, `the login did not end at the callback with a redirect:\n${formatHops(hops)}\n${page.body.slice(0, 300)}`);
  assert.equal(callback.status, 302, formatHops(hops));
  return { callback, target: new URL(callback.location, callback.url).href, formShown: !!form };
}

/** Follows /oauth2/logout through the IdP and stops at the first URL that is neither the IdP nor an /oauth2 endpoint. */
async function logoutTarget(stack: Stack, browser: Browser, base: string, redirect?: string): Promise<{ target: string; hops: Hop[] }> {
  const url = new URL(`${base}/oauth2/logout`);
  if (redirect !== undefined) url.searchParams.set('redirect', redirect);
  const idpOrigin = new URL(stack.idp.issuer).origin;
  const page = await browser.follow(url, { stopAt: (next) => next.origin !== idpOrigin && !next.pathname.startsWith('/oauth2/') });
  assert.ok(page.stoppedAt, `logout did not leave the IdP and /oauth2:\n${formatHops(page.hops)}`);
  assert.ok(page.hops.some((h) => h.url.startsWith(idpOrigin)), `logout went through the IdP:\n${formatHops(page.hops)}`);
  assert.ok(page.hops.some((h) => h.url.startsWith(`${base}/oauth2/logout/callback?`)), `logout came back through the callback:\n${formatHops(page.hops)}`);
  return { target: page.stoppedAt, hops: page.hops };
}

/** Names of the cookies in an upstream's Cookie header, sorted. */
const cookieNamesIn = (header: string | string[] | undefined) =>
  String(header ?? '').split(';').map((p) => p.split('=')[0].trim()).filter(Boolean).sort();

const assertScopes = (sent: Record<string, string>, want: string[]) =>
  assert.deepEqual(sent.scope.split(' ').sort(), [...want].sort(), `scope sent: ${JSON.stringify(sent.scope)}`);

describe('login parameters with configured defaults (Redis store)', () => {
  let stack: Stack;
  let app: string;

  before(async () => {
    stack = await startStack({
      redis: true,
      idp: IDP,
      env: {
        OIDC_ACR_VALUES: 'idporten-loa-substantial',
        OIDC_UI_LOCALES: 'nb',
        OIDC_SCOPES: 'profile,email',
        OIDC_POST_LOGOUT_REDIRECT_URI: 'https://example.org/bye',
      },
    });
    app = stack.appUrl;
  });
  after(() => stack?.close());

  test('level → acr_values and locale → ui_locales only when supported, else the configured default', async () => {
    for (const c of LEVEL_LOCALE) {
      const { sent } = await startLogin(stack, new Browser(), app, c.query);
      assert.equal(sent[c.param], c.withDefault, `${JSON.stringify(c.query)} → ${c.param}`);
    }
  });

  test('PKCE S256, state, nonce, openid plus OIDC_SCOPES, and domain_hint passed through', async () => {
    const one = (await startLogin(stack, new Browser(), app, { domain_hint: 'example.com' })).sent;
    const two = (await startLogin(stack, new Browser(), app)).sent;
    for (const sent of [one, two]) {
      assert.equal(sent.code_challenge_method, 'S256');
      assert.match(sent.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/, 'a base64url SHA-256 code challenge');
      assert.equal(sent.response_type, 'code');
      assert.ok(sent.state && sent.state.length >= 16, 'state sent');
      assert.ok(sent.nonce && sent.nonce.length >= 16, 'nonce sent');
      assertScopes(sent, ['openid', 'profile', 'email']);
      assert.equal(sent.redirect_uri, `${app}/oauth2/callback`);
      assert.equal(sent.prompt, undefined, 'no prompt unless asked for');
      assert.equal(sent.max_age, undefined, 'no max_age unless prompt=login');
    }
    assert.equal(one.domain_hint, 'example.com');
    assert.equal(two.domain_hint, undefined, 'no domain_hint unless given');
    for (const p of ['state', 'nonce', 'code_challenge']) assert.notEqual(one[p], two[p], `${p} is fresh per login`);
    assert.notEqual(one.state, one.nonce);
  });

  for (const prompt of ['login', 'select_account'] as const) {
    test(`prompt=${prompt} is sent${prompt === 'login' ? ' with max_age=0' : ''}, ends the current session first, and the new login completes`, async () => {
      const browser = new Browser();
      await loginViaIdp(browser, app, { stopAfterCallback: true });
      const old = browser.cookie(app, 'gatehouse.session')?.value;
      assert.ok(old, 'logged in');
      assert.equal((await callApp(app, '/oauth2/session', `gatehouse.session=${old}`)).status, 200);

      const { res, location, sent } = await startLogin(stack, browser, app, { prompt });
      assert.equal(sent.prompt, prompt);
      assert.equal(sent.max_age, prompt === 'login' ? '0' : undefined);
      const cleared = res.headers.getSetCookie().filter((l) => cookieNameValue(l)[0] === 'gatehouse.session');
      assert.equal(cleared.length, 1, `the login response clears the session cookie: ${res.headers.getSetCookie().join(' | ')}`);
      assert.match(cleared[0], /Max-Age=0/i);
      assert.equal(browser.cookie(app, 'gatehouse.session'), undefined);
      const replay = await callApp(app, '/oauth2/session', `gatehouse.session=${old}`);
      assert.equal(replay.status, 401, `the old session cookie must be no session any more: ${replay.status} ${replay.text.slice(0, 200)}`);

      // The IdP already has a session for this browser: only the prompt makes it ask again.
      const done = await finishLogin(browser, location, app);
      assert.ok(done.formShown, 'the IdP asked for the login again');
      assert.equal(done.target, `${app}/`, 'the login completed (openid-client accepted auth_time) and went to the target');
      const fresh = browser.cookie(app, 'gatehouse.session')?.value;
      assert.ok(fresh && fresh !== old, 'a new session cookie');
      const session = await callApp(app, '/oauth2/session', `gatehouse.session=${fresh}`);
      assert.equal(session.status, 200, session.text);
      assert.equal(session.json().user.sub, 'alice');
    });
  }

  test('any other prompt value is not sent', async () => {
    for (const prompt of ['none', 'consent', 'create', 'LOGIN', '']) {
      const { sent } = await startLogin(stack, new Browser(), app, { prompt });
      assert.equal(sent.prompt, undefined, `prompt=${JSON.stringify(prompt)} must not be sent`);
      assert.equal(sent.max_age, undefined, `prompt=${JSON.stringify(prompt)} must not send max_age`);
    }
  });

  test('redirect target: redirect query > same-origin Referer > ingress path; a foreign Referer is ignored', async () => {
    const referer = `${app}/api/from-referer?x=1`;
    const cases: Array<{ query: Record<string, string>; referer?: string; want: string }> = [
      { query: { redirect: '/api/from-query' }, referer, want: `${app}/api/from-query` },
      { query: {}, referer, want: `${app}/api/from-referer?x=1` },
      { query: {}, want: `${app}/` },
      { query: {}, referer: 'http://evil.example/api/from-referer?x=1', want: `${app}/` },
      { query: {}, referer: `http://127.0.0.1:${stack.idp.port}/api/from-referer?x=1`, want: `${app}/` },
      // Landing on a Gatehouse endpoint after login would start another login or logout.
      { query: {}, referer: `${app}/oauth2/logout`, want: `${app}/` },
    ];
    for (const c of cases) {
      const browser = new Browser();
      const headers: Record<string, string> = c.referer ? { referer: c.referer, 'sec-fetch-site': c.referer.startsWith(app) ? 'same-origin' : 'cross-site' } : {};
      const { location } = await startLogin(stack, browser, app, c.query, headers);
      const { target } = await finishLogin(browser, location, app);
      assert.equal(target, c.want, `redirect=${c.query.redirect} Referer=${c.referer}`);
    }
  });

  test('logout lands on OIDC_POST_LOGOUT_REDIRECT_URI without a redirect, on the redirect with one', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, app, { stopAfterCallback: true });
    assert.equal((await logoutTarget(stack, browser, app)).target, 'https://example.org/bye');

    await loginViaIdp(browser, app, { stopAfterCallback: true });
    assert.equal((await logoutTarget(stack, browser, app, '/api/after')).target, `${app}/api/after`);
  });
});

describe('COOKIE_PREFIX=myapp, two ingresses, no defaults (cookie store)', () => {
  let stack: Stack;
  let ip: string;
  let local: string;

  before(async () => {
    const port = await freePort();
    ip = `http://127.0.0.1:${port}`;
    local = `http://localhost:${port}`;
    stack = await startStack({
      idp: IDP,
      app: { port },
      client: {
        redirectUris: [`${ip}/oauth2/callback`, `${local}/oauth2/callback`],
        postLogoutRedirectUris: [`${ip}/oauth2/logout/callback`, `${local}/oauth2/logout/callback`],
      },
      env: { INGRESS: `${ip},${local}`, COOKIE_PREFIX: 'myapp' },
    });
  });
  after(() => stack?.close());

  test('without OIDC_ACR_VALUES / OIDC_UI_LOCALES an unsupported level or locale is omitted', async () => {
    for (const c of LEVEL_LOCALE) {
      const { sent } = await startLogin(stack, new Browser(), ip, c.query);
      assert.equal(sent[c.param], c.without, `${JSON.stringify(c.query)} → ${c.param}`);
      assertScopes(sent, ['openid', 'profile', 'email']);
    }
  });

  test('cookies are myapp.session, myapp.login.<id> and myapp.logout, and none of them reaches the upstream', async () => {
    const browser = new Browser();
    const { res, location } = await startLogin(stack, browser, ip);
    const loginCookies = res.headers.getSetCookie().map((l) => cookieNameValue(l)[0]);
    assert.equal(loginCookies.length, 1, `one login cookie: ${loginCookies.join(', ')}`);
    assert.match(loginCookies[0], /^myapp\.login\.[A-Za-z0-9_-]+$/);
    const { target } = await finishLogin(browser, location, ip);
    assert.equal(target, `${ip}/`);
    const names = () => browser.cookiesFor(ip).map((c) => c.name).sort();
    assert.deepEqual(names(), ['myapp.session'], 'the login cookie is cleared, the session cookie set');

    // A pending second login, a client-made `gatehouse.session` (foreign under this prefix) and an app cookie.
    await startLogin(stack, browser, ip);
    browser.setCookie(ip, 'gatehouse.session', 'not-ours');
    browser.setCookie(ip, 'theme', 'dark');
    browser.setCookie(ip, 'myapp-theme', 'light'); // shares the prefix's letters, not its namespace
    assert.equal(names().filter((n) => /^myapp\.login\./.test(n)).length, 1);
    const withSession = await browser.get(`${ip}/api/with-session`, { headers: FETCH_HEADERS });
    assert.equal(withSession.status, 200, await withSession.text());
    const seen = stack.upstream.last('/with-session');
    assert.match(String(seen?.headers.authorization), /^Bearer \S+$/, 'myapp.session is the session');
    assert.deepEqual(cookieNamesIn(seen?.headers.cookie), ['gatehouse.session', 'myapp-theme', 'theme']);
    assert.match(String(seen?.headers.cookie), /gatehouse\.session=not-ours/);

    // Logout as far as the IdP: the logout cookie is set, and stays out of upstream requests too.
    const idpOrigin = new URL(stack.idp.issuer).origin;
    const out = await browser.follow(`${ip}/oauth2/logout`, { stopAt: (next) => next.origin === idpOrigin });
    assert.ok(out.stoppedAt, formatHops(out.hops));
    assert.ok(names().includes('myapp.logout'), `logout cookie set: ${names().join(', ')}`);
    assert.ok(!names().includes('myapp.session'), 'session cookie cleared');
    const afterLogout = await browser.get(`${ip}/api/after-logout`, { headers: FETCH_HEADERS });
    assert.equal(afterLogout.status, 200, await afterLogout.text());
    const seenAfter = stack.upstream.last('/after-logout');
    assert.equal(seenAfter?.headers.authorization, undefined);
    assert.deepEqual(cookieNamesIn(seenAfter?.headers.cookie), ['gatehouse.session', 'myapp-theme', 'theme']);
  });

  test('a login sends the redirect_uri of the ingress it started on', async () => {
    assert.equal((await startLogin(stack, new Browser(), local)).sent.redirect_uri, `${local}/oauth2/callback`);
    assert.equal((await startLogin(stack, new Browser(), ip)).sent.redirect_uri, `${ip}/oauth2/callback`);

    // And the whole login works there: the code exchange repeats that redirect_uri.
    const browser = new Browser();
    const { location } = await startLogin(stack, browser, local, { redirect: '/api/here' });
    const { target } = await finishLogin(browser, location, local);
    assert.equal(target, `${local}/api/here`);
    assert.ok(browser.cookie(local, 'myapp.session'), 'session cookie set for localhost');
    const session = await callApp(local, '/oauth2/session', browser.cookieHeader(local));
    assert.equal(session.status, 200, session.text);
  });

  test('without OIDC_POST_LOGOUT_REDIRECT_URI logout lands on the ingress URL it went through', async () => {
    for (const base of [ip, local]) {
      const browser = new Browser();
      await loginViaIdp(browser, base, { stopAfterCallback: true });
      const { target, hops } = await logoutTarget(stack, browser, base);
      assert.equal(target, `${base}/`);
      const endSession = hops.find((h) => h.url.startsWith(stack.idp.issuer) && new URL(h.url).searchParams.has('post_logout_redirect_uri'));
      assert.ok(endSession, formatHops(hops));
      assert.equal(new URL(endSession.url).searchParams.get('post_logout_redirect_uri'), `${base}/oauth2/logout/callback`);
    }
  });
});
