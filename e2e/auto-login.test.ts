// Auto-login in a real browser (SPEC §4 item 2): a deep link goes through the IdP and lands exactly
// where it pointed; without a session, page script gets 401 JSON with `login_url` instead of a
// redirect it cannot follow; ignored paths load without logging in.
//
//   NEXT_DIST_DIR=.next-e2e node --import tsx --test e2e/auto-login.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright';
import { startStack, type Stack } from '../test/harness/stack';
import { idpLoginForm, launchChromium, newContext, pageFetch, pageJson, redirectChain, screenshot, signInAtIdp, startTogether } from './support';

interface Echo {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
}

describe('auto-login in Chromium', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await startTogether([
      startStack({ env: { AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/api/public/**' } }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('a deep link logs in and lands exactly there; after a local logout fetch() gets 401 JSON with login_url', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const deepLink = `${stack.appUrl}/api/deep/link?x=1&y=two`;

    // The navigation is sent to the IdP's login form, not to the upstream.
    const upstreamBefore = stack.upstream.requests.length;
    const first = await page.goto(deepLink);
    assert.ok(first, 'navigation answered');
    const chain = redirectChain(first);
    assert.equal(chain[0], deepLink);
    assert.equal(chain[1], `${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent('/api/deep/link?x=1&y=two')}`);
    await idpLoginForm(page, stack.idp.issuer);
    assert.equal(stack.upstream.requests.length, upstreamBefore, 'nothing reached the upstream before login');
    await screenshot(page, 'auto-login-01-idp-form-for-deep-link');

    await signInAtIdp(page, stack.idp.issuer, 'carol');
    assert.equal(page.url(), deepLink, 'landed exactly on the deep link, query included');
    const echo = await pageJson<Echo>(page);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.path, '/deep/link');
    assert.deepEqual(echo.query, { x: '1', y: 'two' });
    assert.match(echo.headers.authorization ?? '', /^Bearer \S+$/);
    const received = stack.upstream.last('/deep/link');
    assert.equal(received?.url, '/deep/link?x=1&y=two');
    assert.match(String(received?.headers.authorization), /^Bearer \S+$/);
    await screenshot(page, 'auto-login-02-deep-link-after-login');

    // Logged in: page script reaches the API with the Bearer token.
    const ok = await pageFetch(page, '/api/data', { headers: { accept: 'application/json' } });
    assert.equal(ok.status, 200);
    assert.match(String(stack.upstream.last('/data')?.headers.authorization), /^Bearer /);

    // Local logout (the IdP session stays): 204, the session cookie is gone from the browser.
    const logout = await page.request.get(`${stack.appUrl}/oauth2/logout/local`);
    assert.equal(logout.status(), 204);
    const names = (await context.cookies(stack.appUrl)).map((c) => c.name);
    assert.ok(!names.includes('gatehouse.session'), `session cookie removed: ${names.join(', ')}`);

    // Page script without a session: a plain 401 with JSON, not a (followed or opaque) redirect.
    const upstreamCount = stack.upstream.requests.length;
    const denied = await pageFetch(page, '/api/data', { headers: { accept: 'application/json' } });
    assert.equal(denied.status, 401);
    assert.equal(denied.type, 'basic', 'a readable same-origin answer, not opaque');
    assert.equal(denied.redirected, false);
    assert.equal(denied.url, `${stack.appUrl}/api/data`);
    assert.match(denied.contentType ?? '', /^application\/json/);
    const body = JSON.parse(denied.body) as { error?: string; login_url?: string };
    assert.equal(body.error, 'unauthenticated');
    assert.equal(body.login_url, `/oauth2/login?redirect=${encodeURIComponent('/api/data')}`);
    assert.equal(stack.upstream.requests.length, upstreamCount, 'the request did not reach the upstream');

    // The same with the browser's default Accept (*/*) and a POST: still 401 JSON.
    const post = await pageFetch(page, '/api/data', { method: 'POST' });
    assert.equal(post.status, 401);
    assert.equal((JSON.parse(post.body) as { login_url?: string }).login_url, body.login_url);

    // Following login_url in the window logs in again (the IdP session is still there: no form).
    await page.goto(new URL(body.login_url ?? '', stack.appUrl).href);
    assert.equal(page.url(), `${stack.appUrl}/api/data`);
    assert.match((await pageJson<Echo>(page)).headers.authorization ?? '', /^Bearer /);
  });

  test('an ignored path loads without a login', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();

    const response = await page.goto(`${stack.appUrl}/api/public/x`);
    assert.ok(response);
    assert.equal(response.status(), 200);
    assert.deepEqual(redirectChain(response), [`${stack.appUrl}/api/public/x`], 'no redirect');
    const echo = await pageJson<Echo>(page);
    assert.equal(echo.path, '/public/x');
    assert.equal(echo.headers.authorization, undefined, 'no session, no Authorization');
    await screenshot(page, 'auto-login-03-public-path');

    // A neighbour of the ignored glob is still gated.
    const gated = await pageFetch(page, '/api/publicity');
    assert.equal(gated.status, 401);
    assert.equal((JSON.parse(gated.body) as { login_url?: string }).login_url, '/oauth2/login?redirect=%2Fapi%2Fpublicity');
  });

  test("the app's own pages are gated too: a navigation goes to the IdP, a fetch() gets 401 JSON", async (t) => {
    // Pages Next.js serves (here the start page) are gated by proxy.ts, upstream routes by the
    // server: both must behave the same.
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();

    const response = await page.goto(`${stack.appUrl}/?tab=2`);
    assert.ok(response);
    const chain = redirectChain(response);
    assert.equal(chain[1], `${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent('/?tab=2')}`, `redirect chain: ${chain.join(' → ')} (final status ${response.status()})`);
    await idpLoginForm(page, stack.idp.issuer);

    await page.goto(`${stack.appUrl}/api/public/x`); // an ignored page of the same origin to fetch from
    const denied = await pageFetch(page, '/?tab=2');
    assert.equal(denied.status, 401);
    assert.equal(denied.redirected, false);
    assert.equal((JSON.parse(denied.body) as { login_url?: string }).login_url, `/oauth2/login?redirect=${encodeURIComponent('/?tab=2')}`);

    await page.goto(`${stack.appUrl}/?tab=2`);
    await signInAtIdp(page, stack.idp.issuer, 'dave');
    assert.equal(page.url(), `${stack.appUrl}/?tab=2`);
    assert.equal(await page.locator('h2#who').textContent(), 'Logged in as Dave Demo');
  });
});
