// The app starter in a real browser: useSession() after a login, through a token refresh without a
// reload, and in two tabs that log in and out together; the protected example page sending a
// visitor without a session to the login and back; the route-handler example calling the API with
// the user's access token, the one proxy.ts refreshed in the same request when it was due.
//
//   NEXT_DIST_DIR=.next-e2e node --import tsx --test e2e/starter.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright';
import { startStack, type Stack } from '../test/harness/stack';
import { eventually } from '../test/harness/wait';
import { isIdpLoginPage, launchChromium, newContext, pageJson, redirectChain, screenshot, signInAtIdp, startTogether } from './support';

/** Short enough to watch a refresh happen: the cooldown is half of it, so the hook refreshes ~5 s after login. */
const SHORT_TOKEN_TTL_SECONDS = 8;

interface Echo {
  path: string;
  headers: Record<string, string | undefined>;
}

const status = (page: Page) => page.getByTestId('status');

/** Waits until the hook's status reads `want`. */
const statusIs = (page: Page, want: string) => status(page).filter({ hasText: new RegExp(`^${want}$`) }).waitFor();

/** Leaves a mark in the page's JavaScript world: a reload or navigation would wipe it. */
const mark = (page: Page) => page.evaluate(() => {
  (window as unknown as { starterMark: number }).starterMark = 1;
});
const stillMarked = (page: Page) => page.evaluate(() => (window as unknown as { starterMark?: number }).starterMark === 1);

/** Every request this page sends to Gatehouse's own endpoints from now on. */
function sessionRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/oauth2/')) seen.push(`${request.method()} ${request.url()}`);
  });
  return seen;
}

describe('app starter in Chromium', () => {
  let stack: Stack;
  let shortTokens: Stack;
  let browser: Browser;

  before(async () => {
    [stack, shortTokens, browser] = await startTogether([
      startStack(),
      startStack({ idp: { accessTokenTtlSeconds: SHORT_TOKEN_TTL_SECONDS } }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await Promise.all([stack?.close(), shortTokens?.close()]);
  });

  test('useSession(): unauthenticated, then login() goes through the IdP and back to the same page, which shows the user', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const examplePage = `${stack.appUrl}/examples/client?from=test`;

    await page.goto(examplePage);
    await statusIs(page, 'unauthenticated');
    await page.getByRole('button', { name: 'Log in' }).click();
    await signInAtIdp(page, stack.idp.issuer);

    assert.equal(page.url(), examplePage, 'login() came back to the page it started on, query included');
    await statusIs(page, 'authenticated');
    assert.equal(await page.getByTestId('user').textContent(), 'Alice Demo');
    await screenshot(page, 'starter-01-use-session-authenticated');
  });

  test('useSession() refreshes the tokens before the access token expires and shows the new expiry, without a reload', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${shortTokens.appUrl}/oauth2/login?redirect=${encodeURIComponent('/examples/client')}`);
    await signInAtIdp(page, shortTokens.idp.issuer);
    await statusIs(page, 'authenticated');

    const expireBefore = (await page.getByTestId('expire-at').textContent()) ?? '';
    const refreshGrants = shortTokens.idp.grants.refreshGrants;
    await mark(page);
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    // Nothing else happens on the page: the refresh is the hook's own, on its own schedule.
    const refresh = await page.waitForResponse(
      (r) => r.url() === `${shortTokens.appUrl}/oauth2/session/refresh` && r.request().method() === 'POST',
      { timeout: (SHORT_TOKEN_TTL_SECONDS + 5) * 1000 },
    );
    assert.equal(refresh.status(), 200);
    const refreshed = (await refresh.json()) as { tokens: { expire_at: string } };
    assert.ok(Date.parse(refreshed.tokens.expire_at) > Date.parse(expireBefore), `new expiry ${refreshed.tokens.expire_at} after ${expireBefore}`);
    await page.getByTestId('expire-at').filter({ hasText: refreshed.tokens.expire_at }).waitFor();

    assert.ok(shortTokens.idp.grants.refreshGrants > refreshGrants, 'the IdP issued new tokens');
    assert.equal(navigations, 0, 'no navigation');
    assert.ok(await stillMarked(page), 'the page was not reloaded');
    await statusIs(page, 'authenticated');
    await screenshot(page, 'starter-02-refreshed-without-reload');
  });

  test('two tabs: a login in one shows in the other, a logout in one shows logged out in both, without a reload or a request of their own', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const [tabA, tabB] = [await context.newPage(), await context.newPage()];
    const examplePage = `${stack.appUrl}/examples/client`;
    await Promise.all([tabA.goto(examplePage), tabB.goto(examplePage)]);
    await Promise.all([statusIs(tabA, 'unauthenticated'), statusIs(tabB, 'unauthenticated')]);
    await mark(tabB);
    const fromB = sessionRequests(tabB);

    // Tab A logs in; tab B hears of it from tab A.
    await tabA.getByRole('button', { name: 'Log in' }).click();
    await signInAtIdp(tabA, stack.idp.issuer, 'bob');
    await statusIs(tabA, 'authenticated');
    await statusIs(tabB, 'authenticated');
    assert.equal(await tabB.getByTestId('user').textContent(), 'Bob Demo');
    await screenshot(tabB, 'starter-03-second-tab-logged-in');

    // Tab A logs out (through the IdP and back); tab B shows it at once.
    const endSessions = stack.idp.endSessions;
    await tabA.getByRole('button', { name: 'Log out' }).click();
    await statusIs(tabB, 'unauthenticated');
    await tabA.waitForURL(examplePage, { waitUntil: 'load' });
    await statusIs(tabA, 'unauthenticated');
    assert.equal(stack.idp.endSessions, endSessions + 1, 'the IdP session was ended too');
    assert.deepEqual((await context.cookies(stack.appUrl)).filter((c) => c.name === 'gatehouse.session'), [], 'the session cookie is gone');

    assert.ok(await stillMarked(tabB), 'tab B was never reloaded');
    assert.deepEqual(fromB, [], 'tab B learned both changes from tab A, not by asking the server');
    await screenshot(tabB, 'starter-04-second-tab-logged-out');
  });

  test('protected example page: without a session it sends the browser to the login, which brings it back to the page', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const protectedPage = `${stack.appUrl}/examples/protected`;

    const first = await page.goto(protectedPage);
    assert.ok(first, 'navigation answered');
    const chain = redirectChain(first);
    assert.equal(chain[0], protectedPage);
    assert.equal(chain[1], `${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent('/examples/protected')}`);
    assert.ok(isIdpLoginPage(page, stack.idp.issuer), `on the IdP's login page: ${page.url()}`);

    await signInAtIdp(page, stack.idp.issuer, 'carol');
    assert.equal(page.url(), protectedPage);
    assert.equal(await page.getByTestId('protected-user').textContent(), 'Carol Demo');
    assert.equal(await page.getByTestId('protected-sub').textContent(), 'carol');
    await screenshot(page, 'starter-05-protected-page');
  });

  test('route-handler example: 401 with login_url without a session; with one, the upstream receives the session\'s Bearer token from the server', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const handler = `${stack.appUrl}/examples/api-call`;

    const anonymous = await page.request.get(handler, { headers: { Accept: 'application/json' } });
    assert.equal(anonymous.status(), 401);
    assert.deepEqual(await anonymous.json(), { error: 'unauthenticated', login_url: `/oauth2/login?redirect=${encodeURIComponent('/examples/api-call')}` });

    await page.goto(`${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent('/examples/api-call')}`);
    const before = stack.upstream.requests.length;
    await signInAtIdp(page, stack.idp.issuer);
    assert.equal(page.url(), handler);
    const answer = await pageJson<{ upstream_status: number; upstream: Echo }>(page);
    assert.equal(answer.upstream_status, 200);
    assert.equal(answer.upstream.path, '/whoami');
    assert.match(answer.upstream.headers.authorization ?? '', /^Bearer \S+$/);
    const received = stack.upstream.requests.slice(before).filter((r) => r.url === '/whoami');
    assert.equal(received.length, 1, 'one call to the API');
    assert.equal(received[0].headers.authorization, answer.upstream.headers.authorization);
    assert.equal(received[0].headers.cookie, undefined, 'the server-side call carries no browser cookie');

    // The same token Gatehouse forwards for this session on its /api route.
    const proxied = await page.request.get(`${stack.appUrl}/api/whoami`, { headers: { Accept: 'application/json' } });
    assert.equal(((await proxied.json()) as Echo).headers.authorization, answer.upstream.headers.authorization);
  });

  test('route-handler example with tokens due: getAccessToken() gives the token proxy.ts refreshed in that same request, not the old one', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const handler = `${shortTokens.appUrl}/examples/api-call`;
    await page.goto(`${shortTokens.appUrl}/oauth2/login?redirect=${encodeURIComponent('/examples/api-call')}`);
    await signInAtIdp(page, shortTokens.idp.issuer);
    const first = (await pageJson<{ upstream: Echo }>(page)).upstream.headers.authorization;

    // GET /oauth2/session only reads; wait until it says the refresh is due. Its seconds are
    // floored (0 can mean "in 0.9 s"), but with tokens this short the due moment is the end of the
    // cooldown, which `refresh_cooldown` reports to the millisecond.
    await eventually('the access token to be due for refresh', (SHORT_TOKEN_TTL_SECONDS + 5) * 1000, async () => {
      const json = (await (await page.request.get(`${shortTokens.appUrl}/oauth2/session`)).json()) as { tokens: { next_auto_refresh_in_seconds: number; refresh_cooldown: boolean } };
      return json.tokens.next_auto_refresh_in_seconds === 0 && !json.tokens.refresh_cooldown;
    });
    const refreshGrants = shortTokens.idp.grants.refreshGrants;
    const answer = await page.request.get(handler, { headers: { Accept: 'application/json' } });
    const sent = ((await answer.json()) as { upstream: Echo }).upstream.headers.authorization;
    assert.equal(shortTokens.idp.grants.refreshGrants, refreshGrants + 1, 'proxy.ts refreshed the tokens for that request');
    assert.notEqual(sent, first, 'the API got the new token');
    const proxied = await page.request.get(`${shortTokens.appUrl}/api/whoami`, { headers: { Accept: 'application/json' } });
    assert.equal(((await proxied.json()) as Echo).headers.authorization, sent, 'the same token the session now holds');
  });
});
