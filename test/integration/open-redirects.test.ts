// Open redirects (SPEC §6): every payload of test/fixtures/open-redirects.json, given as the
// `redirect` of /oauth2/login and of /oauth2/logout, must end on the ingress origin after the real
// round trip through the IdP, and must never smuggle CR/LF into a response header.
//
// Login: one interactive login per store; the IdP session it leaves behind makes every further
// /oauth2/login complete on its own (no form), so each payload costs one real code flow. The app's
// own cookies are dropped between payloads: a browser without a session is never rate-limited.
// Logout: a browser without any session goes /oauth2/logout → IdP end_session (auto-confirmed) →
// /oauth2/logout/callback, as after a real logout.
//
//   NEXT_DIST_DIR=.next-core node --import tsx --test test/integration/open-redirects.test.ts

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Browser, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { NAV, STORES, headerPairs, sessionCookiesSet } from './support';

const { payloads } = JSON.parse(readFileSync(new URL('../fixtures/open-redirects.json', import.meta.url), 'utf8')) as { payloads: string[] };

/** No CR/LF in any header, exactly one Location, and no header injected from the payload. */
function assertCleanHeaders(res: Response, what: string): void {
  for (const [name, value] of headerPairs(res.headers)) {
    assert.doesNotMatch(name, /[\r\n]/, `${what}: CR/LF in a header name`);
    assert.doesNotMatch(value, /[\r\n]/, `${what}: CR/LF in ${name}`);
  }
  assert.ok(!res.headers.getSetCookie().some((c) => /^\s*injected\s*=/i.test(c)), `${what}: injected Set-Cookie`);
  const location = res.headers.get('location');
  if (location !== null) {
    assert.ok(!location.includes(','), `${what}: more than one Location (${location})`);
    assert.doesNotMatch(location, /[\s\u0000-\u001f\u007f]/, `${what}: whitespace or controls in Location`);
  }
}

const describePayload = (p: string) => JSON.stringify(p);

/** The two round trips through the IdP that end on a `redirect`, and what each step should do. */
const FLOWS = {
  login: { toIdp: 'login goes to the IdP', callback: '/oauth2/callback', back: 'the IdP session completes the login', redirects: 'callback redirects' },
  logout: { toIdp: 'logout goes to the IdP end_session', callback: '/oauth2/logout/callback', back: 'the IdP returns to the logout callback', redirects: 'logout callback redirects' },
} as const;

for (const store of STORES) {
  describe(`open redirects (${store.name})`, () => {
    let stack: Stack;
    let app: string;
    let origin: string;
    /** Holds the IdP session; its app cookies are dropped before every login. */
    const browser = new Browser();

    before(async () => {
      stack = await startStack({ redis: store.redis });
      app = stack.appUrl;
      origin = new URL(app).origin;
      await loginViaIdp(browser, app);
    });
    after(() => stack?.close());

    /** `/oauth2/<flow>?redirect=<payload>` in `b`, through the IdP and back to the flow's callback,
     *  every step checked; returns the callback's answer (body discarded). */
    async function throughIdp(b: Browser, flow: 'login' | 'logout', payload: string, what: string): Promise<Response> {
      const step = FLOWS[flow];
      const start = await b.get(`${app}/oauth2/${flow}?redirect=${encodeURIComponent(payload)}`, { headers: NAV });
      await start.body?.cancel();
      assertCleanHeaders(start, what);
      assert.equal(start.status, 302, `${what}: ${flow} starts`);
      const toIdp = new URL(start.headers.get('location')!, app);
      assert.equal(toIdp.origin, new URL(stack.idp.issuer).origin, `${what}: ${step.toIdp}`);

      let callback: URL | undefined;
      const idp = await b.follow(toIdp, {
        stopAt: (next) => {
          if (next.origin !== origin) return false;
          callback = next;
          return true;
        },
      });
      assert.ok(callback && callback.pathname === step.callback, `${what}: ${step.back}, got ${idp.status} ${idp.url}`);

      const done = await b.get(callback, { headers: NAV });
      await done.body?.cancel();
      assertCleanHeaders(done, what);
      assert.equal(done.status, 302, `${what}: ${step.redirects}`);
      return done;
    }

    /** A complete login with `redirect=<payload>`; returns the callback's Location resolved against the ingress. */
    async function landingAfterLogin(payload: string): Promise<URL> {
      const what = `login ${describePayload(payload)}`;
      browser.cookies.delete(new URL(app).host);
      const done = await throughIdp(browser, 'login', payload, what);
      assert.ok(sessionCookiesSet(done.headers).length > 0, `${what}: the login succeeded`);
      return new URL(done.headers.get('location')!, app);
    }

    /** /oauth2/logout with `redirect=<payload>` through the IdP; returns the logout callback's Location. */
    async function landingAfterLogout(payload: string): Promise<URL> {
      const done = await throughIdp(new Browser(), 'logout', payload, `logout ${describePayload(payload)}`);
      return new URL(done.headers.get('location')!, app);
    }

    test('control: a safe same-origin redirect is kept through login and logout', async () => {
      assert.equal((await landingAfterLogin('/safe/landing?q=1')).href, `${app}/safe/landing?q=1`);
      assert.equal((await landingAfterLogin(`${app}/absolute/kept?x=2`)).href, `${app}/absolute/kept?x=2`, 'an absolute URL keeps its path');
      assert.equal((await landingAfterLogout('/safe/after-logout?q=1')).href, `${app}/safe/after-logout?q=1`);

      // The remembered redirect is used only with the state it was stored under.
      const b = new Browser();
      const start = await b.get(`${app}/oauth2/logout?redirect=${encodeURIComponent('/remembered')}`, { headers: NAV });
      await start.body?.cancel();
      assert.equal(start.status, 302);
      assert.ok(new URL(start.headers.get('location')!).searchParams.get('state'), 'end_session carries a state');
      const wrong = await b.get(`${app}/oauth2/logout/callback?state=not-the-state`, { headers: NAV });
      await wrong.body?.cancel();
      assert.equal(wrong.status, 302);
      assert.equal(new URL(wrong.headers.get('location')!, app).href, `${app}/`, 'a wrong state falls back to the ingress');
    });

    test(`after login, all ${payloads.length} attack payloads land on the ingress origin`, async () => {
      assert.ok(payloads.length >= 50, 'the attack corpus is loaded');
      const escaped: string[] = [];
      for (const payload of payloads) {
        const landing = await landingAfterLogin(payload);
        if (landing.origin !== origin) escaped.push(`${describePayload(payload)} → ${landing.href}`);
      }
      assert.deepEqual(escaped, [], 'payloads that left the ingress origin after login');
    });

    test(`after logout, all ${payloads.length} attack payloads land on the ingress origin`, async () => {
      const escaped: string[] = [];
      for (const payload of payloads) {
        const landing = await landingAfterLogout(payload);
        if (landing.origin !== origin) escaped.push(`${describePayload(payload)} → ${landing.href}`);
      }
      assert.deepEqual(escaped, [], 'payloads that left the ingress origin after logout');
    });
  });
}
