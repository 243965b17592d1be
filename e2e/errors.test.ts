// Errors as a person meets them (SPEC §7): the built-in error page (status, a sentence, "Try
// again", the correlation id) and, with ERROR_PATH, the redirect to the app's own error page.
//
//   NEXT_DIST_DIR=.next-e2e node --import tsx --test e2e/errors.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright';
import { startStack, type Stack } from '../test/harness/stack';
import { idpLoginForm, launchChromium, newContext, pageJson, redirectChain, screenshot, signInAtIdp, startTogether } from './support';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the built-in error page shows, read the way a person (or a screen reader) finds it. */
async function errorPage(page: Page) {
  return {
    title: await page.title(),
    status: (await page.locator('main .status').textContent())?.trim(),
    sentence: (await page.getByRole('heading', { level: 1 }).textContent())?.trim() ?? '',
    retry: page.getByRole('link', { name: 'Try again' }),
    correlationId: (await page.locator('#correlation-id').textContent())?.trim(),
  };
}

describe('error page in Chromium', () => {
  let stack: Stack;
  let errorPathStack: Stack;
  let browser: Browser;

  before(async () => {
    [stack, errorPathStack, browser] = await startTogether([
      startStack(),
      startStack({ env: { ERROR_PATH: '/api/error-page' } }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await Promise.all([stack?.close(), errorPathStack?.close()]);
  });

  test('an IdP error shows status, a sentence, "Try again" and the correlation id; Try again logs in', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();

    const response = await page.goto(`${stack.appUrl}/oauth2/callback?error=access_denied&state=x`);
    assert.ok(response);
    assert.equal(response.status(), 403);
    assert.match(response.headers()['content-type'] ?? '', /^text\/html/);
    assert.equal(response.headers()['cache-control'], 'no-store');
    const shown = await errorPage(page);
    assert.equal(shown.status, 'Error 403');
    assert.match(shown.title, /403/);
    assert.match(shown.sentence, /^[A-Z].{10,}\.$/, `a sentence: "${shown.sentence}"`);
    assert.equal(shown.correlationId, response.headers()['x-request-id']);
    assert.match(shown.correlationId ?? '', UUID);
    assert.equal(await shown.retry.getAttribute('id'), 'retry');
    const body = (await page.locator('body').innerText()) ?? '';
    assert.doesNotMatch(body, /\bat \S+ \(|\.(ts|js):\d+|\w+Error\b/, 'no stack trace');
    await screenshot(page, 'errors-01-error-page');

    // "Try again" starts a login that completes.
    await shown.retry.click();
    await signInAtIdp(page, stack.idp.issuer, 'erin');
    assert.equal(page.url(), `${stack.appUrl}/`);
    assert.equal(await page.locator('h2#who').textContent(), 'Logged in as Erin Demo');
  });

  test('cancelling at the IdP shows the error page; "Try again" goes back to the original target', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const target = '/api/after/retry?keep=me';

    await page.goto(`${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent(target)}`);
    const form = await idpLoginForm(page, stack.idp.issuer);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${stack.appUrl}/oauth2/callback?`) && r.request().isNavigationRequest()),
      form.cancel.click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(response.status(), 403);
    const shown = await errorPage(page);
    assert.equal(shown.status, 'Error 403');
    assert.equal(shown.correlationId, response.headers()['x-request-id']);
    const names = (await context.cookies(stack.appUrl)).map((c) => c.name);
    assert.deepEqual(names.filter((n) => n.startsWith('gatehouse.')), [], `the failed login's cookie is cleared: ${names.join(', ')}`);
    await screenshot(page, 'errors-02-cancelled-at-idp');

    assert.equal(await shown.retry.getAttribute('href'), `/oauth2/login?redirect=${encodeURIComponent(target)}`);
    await shown.retry.click();
    await signInAtIdp(page, stack.idp.issuer, 'frank');
    assert.equal(page.url(), `${stack.appUrl}${target}`, 'landed on the target of the cancelled login');
    const echo = await pageJson<{ path: string; query: Record<string, string>; headers: Record<string, string> }>(page);
    assert.equal(echo.path, '/after/retry');
    assert.deepEqual(echo.query, { keep: 'me' });
    assert.match(echo.headers.authorization ?? '', /^Bearer /);
  });

  test('with ERROR_PATH the browser ends on the app\'s error page with correlation_id and status_code only', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const app = errorPathStack.appUrl;

    const response = await page.goto(`${app}/oauth2/callback?error=access_denied&state=x`);
    assert.ok(response);
    const final = new URL(page.url());
    assert.equal(final.origin + final.pathname, `${app}/api/error-page`);
    assert.deepEqual([...final.searchParams.keys()].sort(), ['correlation_id', 'status_code'], 'nothing else appended');
    assert.equal(final.searchParams.get('status_code'), '403');
    assert.deepEqual(redirectChain(response).map((u) => new URL(u).pathname), ['/oauth2/callback', '/api/error-page'], 'one hop');
    const callbackResponse = await response.request().redirectedFrom()?.response();
    assert.ok(callbackResponse, 'reached through a redirect from the callback');
    assert.equal(callbackResponse.status(), 302);
    assert.equal(final.searchParams.get('correlation_id'), callbackResponse.headers()['x-request-id']);
    assert.match(final.searchParams.get('correlation_id') ?? '', UUID);
    // The error page is the app's (here: the upstream behind /api), shown with the query intact.
    const echo = await pageJson<{ path: string; query: Record<string, string> }>(page);
    assert.equal(echo.path, '/error-page');
    assert.deepEqual(echo.query, Object.fromEntries(final.searchParams));
    await screenshot(page, 'errors-03-error-path');

    // A person cancelling at the IdP ends there too.
    await page.goto(`${app}/oauth2/login?redirect=%2Fapi%2Fsomewhere`);
    const form = await idpLoginForm(page, errorPathStack.idp.issuer);
    await Promise.all([page.waitForURL((u) => u.pathname === '/api/error-page', { waitUntil: 'load' }), form.cancel.click()]);
    const cancelled = new URL(page.url());
    assert.equal(cancelled.origin, new URL(app).origin);
    assert.deepEqual([...cancelled.searchParams.keys()].sort(), ['correlation_id', 'status_code']);
    assert.equal(cancelled.searchParams.get('status_code'), '403');
  });
});
