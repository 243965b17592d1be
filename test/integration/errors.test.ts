// What a person (or a script) sees when something goes wrong (SPEC §3, §6, §7): IdP errors, bad or
// replayed callbacks, tampered session cookies, an IdP that is down, ERROR_PATH, and fetch-style
// requests to the interactive endpoints. Never a 500, never a stack, never a session by accident.
//
//   NEXT_DIST_DIR=.next-core node --import tsx --test test/integration/errors.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sealData } from 'iron-session';
import { testSecret } from '../harness/env';
import { Browser, FETCH_HEADERS, loginViaIdp, type Page } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import {
  NAV, STORES, SESSION_COOKIE, assertNoStack, elementAttr, loginUpToCallback, openIdpLoginForm, rawValues,
  sessionCookiesSet, startLogin, upstreamRequestSince,
} from './support';

interface Answer { status: number; headers: Headers; body: string }

const answerOf = async (res: Response): Promise<Answer> => ({ status: res.status, headers: res.headers, body: await res.text() });
const pageAnswer = (p: Page): Answer => ({ status: p.status, headers: p.headers, body: p.body });

/**
 * The built-in error page (SPEC §7): HTML with the status, a "try again" link to /oauth2/login
 * (back to `retryTarget` when given), the correlation id of the response, no stack, and no session
 * cookie set.
 */
function assertErrorPage(a: Answer, what: string, retryTarget?: string): void {
  assert.notEqual(a.status, 500, `${what}: never a 500`);
  assert.ok(a.status >= 400 && a.status < 600, `${what}: an error status, got ${a.status}`);
  assert.match(a.headers.get('content-type') ?? '', /^text\/html/, `${what}: an HTML page`);
  const id = a.headers.get('x-request-id');
  assert.ok(id, `${what}: X-Request-Id`);
  assert.match(a.body.split(id).join(''), new RegExp(`\\b${a.status}\\b`), `${what}: the page shows the status`);
  const retry = elementAttr(a.body, 'retry', 'href') ?? /href="(\/oauth2\/login[^"]*)"/.exec(a.body)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(retry, `${what}: a retry link`);
  const retryUrl = new URL(retry, 'http://app.invalid');
  assert.equal(retryUrl.origin + retryUrl.pathname, 'http://app.invalid/oauth2/login', `${what}: retry restarts login`);
  if (retryTarget !== undefined) assert.equal(retryUrl.searchParams.get('redirect'), retryTarget, `${what}: retry keeps the target`);
  assert.ok(htmlForms(id).some((form) => a.body.includes(form)), `${what}: the correlation id is on the page`);
  assertNoStack(a.body);
  assert.deepEqual(sessionCookiesSet(a.headers), [], `${what}: no session cookie set`);
}

/** `text` as it may appear in HTML: raw (when nothing needs escaping), named or numeric escapes. */
function htmlForms(text: string): string[] {
  const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const special = /[&<>"']/g;
  return /[&<>"']/.test(text)
    ? [text.replace(special, (c) => named[c]), text.replace(special, (c) => `&#${c.charCodeAt(0)};`), text.replace(special, (c) => `&#x${c.charCodeAt(0).toString(16)};`)]
    : [text];
}

async function assertNoSession(browser: Browser, app: string, what: string): Promise<void> {
  const res = await browser.get(`${app}/oauth2/session`);
  await res.body?.cancel();
  assert.equal(res.status, 401, `${what}: no session afterwards`);
}

/** Changes the last character of the MAC, just before iron's `~version` suffix (or at the end). */
function alterBeforeVersion(sealed: string): string {
  const at = sealed.lastIndexOf('~') > 0 ? sealed.lastIndexOf('~') - 1 : sealed.length - 1;
  return sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
}

/** A callback URL as the IdP would send it, for a state Gatehouse issued. */
function callbackUrl(app: string, params: Record<string, string>): URL {
  const u = new URL(`${app}/oauth2/callback`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u;
}

for (const store of STORES) {
  describe(`errors (${store.name})`, () => {
    let stack: Stack;
    let app: string;
    before(async () => {
      stack = await startStack({ redis: store.redis });
      app = stack.appUrl;
    });
    after(() => stack?.close());

    test('cancelling at the IdP (error=access_denied) shows the error page, no session', async () => {
      const browser = new Browser();
      const { location } = await startLogin(browser, app, stack.idp, '/api/wanted');
      const form = await openIdpLoginForm(browser, location);
      const cancel = /href="([^"]*)"[^>]*>\s*\[ Cancel \]/.exec(form.body)?.[1];
      assert.ok(cancel, 'the IdP login page has a Cancel link');
      const page = await browser.follow(new URL(cancel.replace(/&amp;/g, '&'), form.url));
      const callback = page.hops.find((h) => new URL(h.url).pathname === '/oauth2/callback');
      assert.ok(callback, 'the IdP sent the browser back to the callback');
      assert.equal(new URL(callback.url).searchParams.get('error'), 'access_denied');
      assertErrorPage(pageAnswer(page), 'access_denied', '/api/wanted');
      assert.equal(page.status, 403);
      await assertNoSession(browser, app, 'access_denied');
    });

    test('IdP error responses with hostile text are not echoed; never a 500', async () => {
      const cases = [
        { error: 'access_denied', error_description: '<script>alert("xss")</script>' },
        { error: 'server_error', error_description: '<img src=x onerror=alert(1)>' },
        { error: 'invalid_scope', error_description: 'scope <b>bad</b>' },
        { error: '<script>alert(2)</script>', error_description: 'text-chosen-by-the-idp' },
      ];
      for (const c of cases) {
        const browser = new Browser();
        const { state } = await startLogin(browser, app, stack.idp, '/api/target');
        const res = await browser.get(callbackUrl(app, { ...c, state, iss: stack.idp.issuer }), {
          headers: { ...NAV, 'x-request-id': '"><script>alert(3)</script>' },
        });
        const a = await answerOf(res);
        assertErrorPage(a, c.error, '/api/target');
        for (const bad of ['<script', '<img', 'onerror', '<b>', c.error_description]) assert.ok(!a.body.includes(bad), `${c.error}: "${bad}" echoed`);
        assert.ok(!a.body.includes('<script>alert(3)'), 'the correlation id is escaped');
        await assertNoSession(browser, app, c.error);
      }
    });

    test('wrong, garbage or missing state, and a missing or forged login cookie: 4xx page, no session', async () => {
      const cases: Array<{ name: string; prepare: (b: Browser) => Promise<URL> }> = [
        {
          name: 'state altered after the IdP',
          prepare: async (b) => {
            const { callback: cb } = await loginUpToCallback(b, app, stack.idp);
            const state = cb.searchParams.get('state')!;
            cb.searchParams.set('state', `${state.split('.')[0]}.tampered-${state.slice(-6)}`);
            return cb;
          },
        },
        { name: 'garbage state', prepare: async () => callbackUrl(app, { code: 'abc', state: 'garbage', iss: stack.idp.issuer }) },
        { name: 'no state', prepare: async () => callbackUrl(app, { code: 'abc', iss: stack.idp.issuer }) },
        { name: 'no parameters at all', prepare: async () => callbackUrl(app, {}) },
        {
          name: 'login cookie missing (no session)',
          prepare: async (b) => {
            const { callback: cb } = await loginUpToCallback(b, app, stack.idp);
            for (const c of b.cookiesFor(app)) if (c.name.startsWith('gatehouse.login.')) b.deleteCookie(app, c.name);
            return cb;
          },
        },
        {
          name: 'login cookie forged',
          prepare: async (b) => {
            const { state } = await startLogin(b, app, stack.idp);
            for (const c of b.cookiesFor(app)) if (c.name.startsWith('gatehouse.login.')) b.setCookie(app, c.name, `${c.value.slice(0, -8)}AAAAAAAA`);
            return callbackUrl(app, { code: 'abc', state, iss: stack.idp.issuer });
          },
        },
      ];
      for (const c of cases) {
        const browser = new Browser();
        const url = await c.prepare(browser);
        const a = await answerOf(await browser.get(url, { headers: NAV }));
        assertErrorPage(a, c.name);
        assert.ok(a.status >= 400 && a.status < 500, `${c.name}: 4xx, got ${a.status}`);
        await assertNoSession(browser, app, c.name);
      }
    });

    test('replaying a used callback URL with a copied login cookie gives an error, no session', async () => {
      const first = new Browser();
      const { callback: cb } = await loginUpToCallback(first, app, stack.idp, '/api/first');
      const thief = new Browser();
      for (const c of first.cookiesFor(app)) if (c.name.startsWith('gatehouse.login.')) thief.setCookie(app, c.name, c.value);

      const ok = await first.get(cb, { headers: NAV });
      await ok.body?.cancel();
      assert.equal(ok.status, 302);
      assert.equal(ok.headers.get('location'), '/api/first');

      const replay = await answerOf(await thief.get(cb, { headers: NAV }));
      assertErrorPage(replay, 'replayed code');
      assert.ok(replay.status >= 400 && replay.status < 500, `replayed code: 4xx, got ${replay.status}`);
      await assertNoSession(thief, app, 'replayed code');

      // The browser that logged in finishing "again" (a second tab, a reload) just goes on (SPEC §3).
      const again = await first.get(cb, { headers: NAV });
      await again.body?.cancel();
      assert.equal(again.status, 302, 'a callback without its login cookie, with a valid session, redirects');
      assert.equal(new URL(again.headers.get('location')!, app).origin, new URL(app).origin);
      assert.equal((await first.get(`${app}/oauth2/session`)).status, 200, 'the session is kept');
    });

    test('a tampered, truncated, foreign or garbage session cookie is no session, never a 500', async () => {
      const owner = new Browser();
      await loginViaIdp(owner, app);
      const real = owner.cookie(app, SESSION_COOKIE)!.value;
      const mid = Math.floor(real.length / 2);
      const flip = real[mid] === 'A' ? 'B' : 'A';
      const other = new Browser();
      await startLogin(other, app, stack.idp);
      const loginSealed = other.cookiesFor(app).find((c) => c.name.startsWith('gatehouse.login.'))!.value;
      const foreign = await sealData({ p: 'session', d: { t: 'inline', s: { id: 'x', sub: 'mallory', createdAt: Date.now(), endsAt: Date.now() + 3_600_000 } } }, { password: testSecret() });
      const variants: Array<[string, Array<[string, string]>]> = [
        ['one character flipped', [[SESSION_COOKIE, real.slice(0, mid) + flip + real.slice(mid + 1)]]],
        ['truncated', [[SESSION_COOKIE, real.slice(0, mid)]]],
        ['last characters cut', [[SESSION_COOKIE, real.slice(0, -3)]]],
        ['garbage', [[SESSION_COOKIE, 'not-a-sealed-value']]],
        ['iron prefix with junk', [[SESSION_COOKIE, 'Fe26.2**junk*junk*junk*junk*junk*junk']]],
        ['MAC altered', [[SESSION_COOKIE, alterBeforeVersion(real)]]],
        ['sealed with another secret', [[SESSION_COOKIE, foreign]]],
        // Past the chunk bound, yet under Node's 16 KB header limit (beyond it Node itself answers 431).
        ['cookie bomb of chunks', [[SESSION_COOKIE, 'x'.repeat(900)], ...Array.from({ length: 12 }, (_, i) => [`${SESSION_COOKIE}.${i + 1}`, 'y'.repeat(900)] as [string, string])]],
        ['login cookie used as session', [[SESSION_COOKIE, loginSealed]]],
      ];
      for (const [name, cookies] of variants) {
        const browser = new Browser();
        for (const [n, v] of cookies) browser.setCookie(app, n, v);
        const session = await browser.get(`${app}/oauth2/session`);
        assert.equal(session.status, 401, `${name}: /oauth2/session`);
        assert.match(session.headers.get('content-type') ?? '', /json/);
        await session.body?.cancel();
        const refresh = await browser.request(`${app}/oauth2/session/refresh`, { method: 'POST' });
        await refresh.body?.cancel();
        assert.equal(refresh.status, 401, `${name}: /oauth2/session/refresh`);

        const mark = stack.upstream.requests.length;
        const api = await browser.get(`${app}/api/tampered`, { headers: { authorization: 'Bearer from-client' } });
        await api.body?.cancel();
        assert.equal(api.status, 200, `${name}: the API is reached without a session`);
        assert.deepEqual(rawValues(upstreamRequestSince(stack.upstream.requests, mark, '/tampered').rawHeaders, 'authorization'), [], `${name}: no Bearer`);

        const home = await browser.get(`${app}/`, { headers: NAV });
        const html = await home.text();
        assert.equal(home.status, 200, `${name}: the start page renders`);
        assert.doesNotMatch(html, /Logged in as/, `${name}: the page shows no session`);
        assert.deepEqual(sessionCookiesSet(home.headers), [], `${name}: no session cookie set`);
      }
      // The genuine cookie still works: the variants were rejected for what they are.
      assert.equal((await owner.get(`${app}/oauth2/session`)).status, 200);
    });

    test('fetch-style requests to the interactive endpoints get 401 JSON, not a redirect', async () => {
      const browser = new Browser();
      await loginViaIdp(browser, app);
      const imageHeaders = { accept: 'image/*', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', 'sec-fetch-site': 'cross-site' };
      const cases: Array<[string, Record<string, string>]> = [
        ['/oauth2/login?redirect=/api/x', FETCH_HEADERS],
        ['/oauth2/login', { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }],
        ['/oauth2/callback?code=abc&state=xyz', FETCH_HEADERS],
        ['/oauth2/logout', FETCH_HEADERS],
        ['/oauth2/logout', imageHeaders],
        ['/oauth2/logout/callback', FETCH_HEADERS],
      ];
      for (const [path, headers] of cases) {
        const res = await browser.get(`${app}${path}`, { headers });
        const what = `${path} ${headers['sec-fetch-dest']}`;
        assert.equal(res.status, 401, what);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
        const body = (await res.json()) as { error?: string };
        assert.equal(typeof body.error, 'string', what);
        const location = res.headers.get('location');
        assert.ok(!location || !location.startsWith(stack.idp.issuer), `${what}: no redirect to the IdP`);
        assert.deepEqual(res.headers.getSetCookie().filter((l) => /^gatehouse\.(login|logout)/.test(l)), [], `${what}: no login/logout cookie`);
      }
      assert.equal((await browser.get(`${app}/oauth2/session`)).status, 200, 'a refused logout did not end the session');
    });
  });
}

describe('errors: the IdP is down', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({});
  });
  after(() => stack?.close());

  const timed = async (browser: Browser, url: string | URL) => {
    const started = Date.now();
    const a = await answerOf(await browser.get(url, { headers: NAV, signal: AbortSignal.timeout(20_000) }));
    return { ...a, ms: Date.now() - started };
  };

  test('login and callback answer 502 quickly, after discovery and before it', async () => {
    const app = stack.appUrl;
    // A login that got as far as the IdP while it was up (discovery and PAR done).
    const pending = new Browser();
    const { callback: cb } = await loginUpToCallback(pending, app, stack.idp, '/api/pending');
    await stack.idp.close();

    const login = await timed(new Browser(), `${app}/oauth2/login?redirect=/api/x`);
    assert.equal(login.status, 502, 'login with the IdP down');
    assertErrorPage(login, 'login, IdP down', '/api/x');
    assert.ok(login.ms < 8_000, `login took ${login.ms} ms`);

    const callback = await timed(pending, cb);
    assert.equal(callback.status, 502, 'callback with the IdP down');
    assertErrorPage(callback, 'callback, IdP down', '/api/pending');
    assert.ok(callback.ms < 8_000, `callback took ${callback.ms} ms`);
    await assertNoSession(pending, app, 'callback, IdP down');

    // A fresh process that never reached the IdP (no cached discovery).
    await stack.restartApp();
    const cold = await timed(new Browser(), `${app}/oauth2/login`);
    assert.equal(cold.status, 502, 'login with the IdP down since startup');
    assertErrorPage(cold, 'login, IdP never reached', '/');
    assert.ok(cold.ms < 8_000, `cold login took ${cold.ms} ms`);
  });
});

describe('errors: ERROR_PATH', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { ERROR_PATH: '/error' } });
  });
  after(() => stack?.close());

  /** 302 to exactly `/error?correlation_id=<id>&status_code=<code>`. */
  function assertErrorPathRedirect(res: Response, status: number, what: string) {
    assert.equal(res.status, 302, what);
    const location = res.headers.get('location') ?? '';
    assert.match(location, /^\/error\?/, `${what}: a relative redirect to ERROR_PATH, got ${location}`);
    const u = new URL(location, stack.appUrl);
    assert.equal(u.pathname, '/error');
    assert.deepEqual([...u.searchParams.keys()], ['correlation_id', 'status_code'], `${what}: nothing else appended`);
    assert.equal(u.searchParams.get('correlation_id'), res.headers.get('x-request-id'));
    assert.equal(u.searchParams.get('status_code'), String(status));
    assert.equal(u.hash, '');
    assert.deepEqual(sessionCookiesSet(res.headers), []);
  }

  test('callback errors redirect to ERROR_PATH with correlation_id and status_code only', async () => {
    const app = stack.appUrl;
    const browser = new Browser();
    const { state } = await startLogin(browser, app, stack.idp, '/api/x');
    const denied = await browser.get(callbackUrl(app, { error: 'access_denied', error_description: '<script>x</script>', state, iss: stack.idp.issuer }), {
      headers: { ...NAV, 'x-request-id': 'corr-a&status_code=200#frag' },
    });
    await denied.body?.cancel();
    assertErrorPathRedirect(denied, 403, 'access_denied');
    assert.equal(denied.headers.get('x-request-id'), 'corr-a&status_code=200#frag');

    const garbage = await browser.get(callbackUrl(app, { code: 'x', state: 'garbage' }), { headers: NAV });
    await garbage.body?.cancel();
    assertErrorPathRedirect(garbage, 400, 'garbage state');
    await assertNoSession(browser, app, 'ERROR_PATH');

    // Scripts still get JSON, not a redirect to a page.
    const fetched = await browser.get(`${app}/oauth2/login`, { headers: FETCH_HEADERS });
    assert.equal(fetched.status, 401);
    assert.match(fetched.headers.get('content-type') ?? '', /json/);
  });
});
