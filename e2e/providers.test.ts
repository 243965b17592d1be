// Several identity providers in a real browser (SPEC §12): "Log in" on the demo page leads to the
// sign-in page; each provider's button logs in at that provider and "Log out" ends the session at
// the same provider; the page works with the keyboard alone. A screenshot of the sign-in page is
// saved as test-results/screenshots/sign-in.png.
//
//   NEXT_DIST_DIR=.next-e2e node --import tsx --test e2e/providers.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright';
import { PROVIDER_IDS, PROVIDER_NAMES, startProvidersStack, type ProvidersStack } from '../test/harness/providers-stack';
import { launchChromium, newContext, pageFetch, screenshot, signInAtIdp, startTogether } from './support';

/** Tab presses allowed to reach a button: the page has nothing focusable before the buttons. */
const MAX_TABS = 5;

describe('sign-in page with two identity providers in Chromium', () => {
  let stack: ProvidersStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await startTogether([startProvidersStack(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const heading = (page: Page) => page.locator('h2#who');

  for (const id of PROVIDER_IDS) {
    test(`choose ${id}: log in at its IdP, the session names it, log out at the same IdP`, async (t) => {
      const context = await newContext(browser);
      t.after(() => context.close());
      const page = await context.newPage();
      await page.goto(`${stack.appUrl}/`);
      await Promise.all([page.waitForURL((u) => u.pathname === '/oauth2/sign-in'), page.getByRole('link', { name: 'Log in' }).click()]);
      assert.equal(new URL(page.url()).searchParams.get('redirect'), '/');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
      for (const other of PROVIDER_IDS) assert.equal(await page.getByRole('link', { name: PROVIDER_NAMES[other], exact: true }).count(), 1);
      if (id === 'corp') await screenshot(page, 'sign-in');

      await page.getByRole('link', { name: PROVIDER_NAMES[id], exact: true }).click();
      await signInAtIdp(page, stack.idps[id].issuer, 'alice');
      assert.equal(page.url(), `${stack.appUrl}/`);
      await heading(page).filter({ hasText: /^Logged in as / }).waitFor();
      const session = await pageFetch(page, '/oauth2/session');
      assert.equal((JSON.parse(session.body) as { session: { provider: string } }).session.provider, id);

      const endSessions = { corp: stack.idps.corp.endSessions, partner: stack.idps.partner.endSessions };
      await Promise.all([page.waitForURL(`${stack.appUrl}/`, { waitUntil: 'load' }), page.getByRole('link', { name: 'Log out' }).click()]);
      await heading(page).filter({ hasText: 'Not logged in' }).waitFor();
      for (const p of PROVIDER_IDS) assert.equal(stack.idps[p].endSessions, endSessions[p] + (p === id ? 1 : 0), `end-session at ${p}`);
      assert.equal((await pageFetch(page, '/oauth2/session')).status, 401);
    });
  }

  test('keyboard only: Tab to a provider\'s button and press Enter', async (t) => {
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${stack.appUrl}/oauth2/sign-in?redirect=%2F`);
    const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
    let presses = 0;
    while ((await focused()) !== 'provider-partner') {
      assert.ok(++presses <= MAX_TABS, `Tab did not reach the partner button (focus on "${await focused()}")`);
      await page.keyboard.press('Tab');
    }
    // A visible focus ring: the outline the shared page style gives focused buttons.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.equal(outline, 'solid');
    await Promise.all([page.waitForURL((u) => u.origin === stack.idps.partner.issuer), page.keyboard.press('Enter')]);
    await signInAtIdp(page, stack.idps.partner.issuer, 'kim');
    assert.equal(page.url(), `${stack.appUrl}/`);
    await heading(page).filter({ hasText: /^Logged in as / }).waitFor();
  });
});
