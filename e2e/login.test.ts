// The demo page through a real browser: log in on the IdP's login page, call the API through
// Gatehouse, check that nothing secret is visible to page script, log out through the IdP, and
// log in from two tabs at once.
//
//   NEXT_DIST_DIR=.next-e2e node --import tsx --test e2e/login.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright';
import { startStack, type Stack } from '../test/harness/stack';
import { idpLoginForm, launchChromium, newContext, pageFetch, screenshot, signInAtIdp, startTogether } from './support';

const LOGGED_IN = /^Logged in as /;

describe('demo page in Chromium', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await startTogether([startStack(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const heading = (page: Page) => page.locator('h2#who');

  test('log in on the IdP page, call the API, nothing secret in page script, log out through the IdP', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const app = new URL(stack.appUrl);

    // Start page, not logged in.
    const start = await page.goto(`${stack.appUrl}/`);
    assert.equal(start?.status(), 200);
    assert.equal(await heading(page).textContent(), 'Not logged in');
    await screenshot(page, 'login-01-start-not-logged-in');

    // "Log in" → the IdP's login form.
    await page.getByRole('link', { name: 'Log in' }).click();
    const form = await idpLoginForm(page, stack.idp.issuer);
    await screenshot(page, 'login-02-idp-login-form');
    await form.login.fill('alice');
    await form.password.fill('correct horse');
    await Promise.all([page.waitForURL(`${stack.appUrl}/`), form.submit.click()]);

    // Back on the start page, logged in, with the id_token's name.
    assert.equal(page.url(), `${stack.appUrl}/`);
    await heading(page).filter({ hasText: LOGGED_IN }).waitFor();
    assert.equal(await heading(page).textContent(), 'Logged in as Alice Demo');
    assert.equal(await page.getByTestId('sub').textContent(), 'alice');
    assert.equal(await page.locator('#login').count(), 0, 'no "Log in" link once logged in');
    await screenshot(page, 'login-03-logged-in');

    // "Call the API": the upstream receives the Bearer token and echoes what it got.
    const upstreamBefore = stack.upstream.requests.length;
    await page.getByRole('button', { name: 'Call the API' }).click();
    await page.locator('#api-status').waitFor();
    assert.equal(await page.locator('#api-status').textContent(), '200');
    const result = (await page.locator('#api-result').textContent()) ?? '';
    assert.match(result, /"authorization": "Bearer [^"]+"/);
    await screenshot(page, 'login-04-api-called');
    const received = stack.upstream.requests.slice(upstreamBefore).find((r) => r.url === '/whoami');
    assert.ok(received, 'the upstream received GET /whoami');
    const accessToken = String(received.headers.authorization).replace(/^Bearer /, '');
    assert.ok(accessToken.length > 10, 'a real access token was forwarded');
    assert.ok(!String(received.headers.cookie ?? '').includes('gatehouse.'), 'no Gatehouse cookie reaches the upstream');

    // The session cookie exists, but page script can see neither it nor any token.
    const cookies = await context.cookies(stack.appUrl);
    const gatehouseCookies = cookies.filter((c) => c.name.startsWith('gatehouse.'));
    assert.ok(gatehouseCookies.some((c) => c.name === 'gatehouse.session'), `session cookie set: ${cookies.map((c) => c.name).join(', ')}`);
    for (const c of gatehouseCookies) {
      assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
      assert.equal(c.sameSite, 'Lax', `${c.name} is SameSite=Lax`);
      assert.equal(c.domain, app.hostname);
    }
    // No named helper inside: tsx (esbuild keepNames) would wrap it in a `__name` the page lacks.
    const seen = await page.evaluate(() => ({
      cookie: document.cookie,
      local: Object.entries({ ...localStorage }).map(([k, v]) => `${k}=${v}`),
      session: Object.entries({ ...sessionStorage }).map(([k, v]) => `${k}=${v}`),
    }));
    assert.doesNotMatch(seen.cookie, /gatehouse\./, 'document.cookie cannot read Gatehouse cookies');
    for (const entry of [...seen.local, ...seen.session]) {
      assert.ok(!entry.includes(accessToken), `no access token in web storage: ${entry.slice(0, 80)}`);
    }
    assert.deepEqual([...seen.local, ...seen.session].filter((e) => /token|session/i.test(e)), []);
    // The session endpoint serves the page without tokens.
    const session = await pageFetch(page, '/oauth2/session');
    assert.equal(session.status, 200);
    assert.equal((JSON.parse(session.body) as { user: { sub: string } }).user.sub, 'alice');
    assert.ok(!session.body.includes(accessToken), 'no token in /oauth2/session');

    // "Log out": Gatehouse → IdP end_session (submits itself) → logout callback → start page.
    const endSessions = stack.idp.endSessions;
    await Promise.all([
      page.waitForURL(`${stack.appUrl}/`, { waitUntil: 'load' }),
      page.getByRole('link', { name: 'Log out' }).click(),
    ]);
    await heading(page).filter({ hasText: 'Not logged in' }).waitFor();
    assert.equal(await heading(page).textContent(), 'Not logged in');
    assert.equal(stack.idp.endSessions, endSessions + 1, 'the IdP session was ended too');
    await screenshot(page, 'login-05-logged-out');
    assert.deepEqual((await context.cookies(stack.appUrl)).filter((c) => c.name.startsWith('gatehouse.session')).map((c) => c.name), []);

    // No session any more: the endpoint says 401, and the API gets no Authorization.
    const after = await pageFetch(page, '/oauth2/session');
    assert.equal(after.status, 401);
    const direct = await page.request.get(`${stack.appUrl}/oauth2/session`);
    assert.equal(direct.status(), 401);
    await page.getByRole('button', { name: 'Call the API' }).click();
    await page.locator('#api-result').filter({ hasNotText: 'Bearer' }).waitFor();
    assert.equal(stack.upstream.last('/whoami')?.headers.authorization, undefined);
  });

  test('two tabs start a login at the same time; both complete and both end logged in', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const tabs = [await context.newPage(), await context.newPage()];
    const codeGrants = stack.idp.grants.authorizationCodeGrants;

    await Promise.all(tabs.map((tab) => tab.goto(`${stack.appUrl}/`)));
    // Both logins start before either finishes: two login attempts, two login cookies.
    await Promise.all(tabs.map((tab) => tab.getByRole('link', { name: 'Log in' }).click()));
    const forms = await Promise.all(tabs.map((tab) => idpLoginForm(tab, stack.idp.issuer)));
    const loginCookies = (await context.cookies(stack.appUrl)).filter((c) => c.name.startsWith('gatehouse.login.'));
    assert.equal(loginCookies.length, 2, `one login cookie per attempt: ${loginCookies.map((c) => c.name).join(', ')}`);

    for (const form of forms) {
      await form.login.fill('alice');
      await form.password.fill('correct horse');
    }
    await Promise.all(tabs.map((tab, i) => Promise.all([tab.waitForURL(`${stack.appUrl}/`), forms[i].submit.click()])));

    for (const [i, tab] of tabs.entries()) {
      assert.equal(tab.url(), `${stack.appUrl}/`, `tab ${i + 1} is back on the start page`);
      assert.equal(await heading(tab).textContent(), 'Logged in as Alice Demo', `tab ${i + 1}`);
      assert.equal(await tab.locator('title').textContent(), 'Gatehouse', `tab ${i + 1} shows no error page`);
    }
    await screenshot(tabs[0], 'login-06-two-tabs-first');
    await screenshot(tabs[1], 'login-07-two-tabs-second');
    assert.equal(stack.idp.grants.authorizationCodeGrants, codeGrants + 2, 'both tabs exchanged their own code');

    // Both tabs share the one session that is left, and no login attempt is left behind.
    const names = (await context.cookies(stack.appUrl)).map((c) => c.name);
    assert.ok(names.includes('gatehouse.session'), names.join(', '));
    assert.deepEqual(names.filter((n) => n.startsWith('gatehouse.login.')), []);
    for (const tab of tabs) {
      await tab.reload();
      assert.equal(await heading(tab).textContent(), 'Logged in as Alice Demo');
      assert.equal((await pageFetch(tab, '/oauth2/session')).status, 200);
    }
  });

  test('signInAtIdp helper: a second login in a fresh context lands where it was asked to', async (t) => {
    // Guards the helper the other files rely on: a login with a redirect ends exactly there.
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent('/?from=helper')}`);
    await signInAtIdp(page, stack.idp.issuer, 'bob');
    assert.equal(page.url(), `${stack.appUrl}/?from=helper`);
    assert.equal(await heading(page).textContent(), 'Logged in as Bob Demo');
  });
});
