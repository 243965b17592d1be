// An ingress with a path (SPEC §2 `INGRESS=https://example.com/app`): every endpoint, upstream route
// and cookie lives under that path, the redirect URI includes it, and nothing outside it is served.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/ingress-path.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';

describe('ingress with a path (/app)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ ingressPath: '/app', redis: true });
  }, { timeout: 60_000 });
  after(() => stack?.close());

  test('login under the path lands on the target, the redirect URI carries the path, the upstream gets the Bearer', async () => {
    const browser = new Browser();
    const { page } = await loginViaIdp(browser, stack.appUrl, { redirect: '/app/api/hello?x=1' });
    assert.equal(new URL(page.url).pathname + new URL(page.url).search, '/app/api/hello?x=1');
    const authorize = stack.idp.authorizationRequests.at(-1);
    assert.equal(authorize?.redirect_uri, `${stack.appUrl}/oauth2/callback`);
    const seen = stack.upstream.last('/hello');
    assert.equal(seen?.url, '/hello?x=1');
    assert.match(String(seen?.headers.authorization), /^Bearer \S+$/);

    const cookie = browser.cookiesFor(`${stack.appUrl}/oauth2/session`).find((c) => c.name === 'gatehouse.session');
    assert.equal(cookie?.path, '/app', 'session cookie scoped to the ingress path');
    const session = await browser.get(`${stack.appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
    assert.equal(session.status, 200);
    await session.body?.cancel();
  });

  test('nothing outside the ingress path is served or forwarded', async () => {
    const before = stack.upstream.requests.length;
    for (const path of ['/oauth2/ping', '/api/hello', '/application/api/x']) {
      const res = await fetch(`${stack.app.url}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, 404, path);
    }
    assert.equal(stack.upstream.requests.length, before, 'no request reached the upstream');
    const ping = await fetch(`${stack.appUrl}/oauth2/ping`);
    assert.equal(await ping.text(), 'pong');
  });

  test('an escaped ingress path is the same path, not a way around it', async () => {
    const res = await fetch(`${stack.app.url}/%61pp/oauth2/ping`);
    assert.equal(await res.text(), 'pong');
  });

  test("the app's build assets named at the origin root are served (client components load), and only those", async () => {
    const html = await (await fetch(`${stack.appUrl}/`, { headers: { accept: 'text/html' } })).text();
    const scripts = [...html.matchAll(/src="(\/_next\/static\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(scripts.length > 0, 'the page names scripts at /_next/static/ (Next fixes asset URLs at build time)');
    const before = stack.upstream.requests.length;
    for (const src of scripts) {
      const res = await fetch(`${stack.app.url}${src}`);
      await res.body?.cancel();
      assert.equal(res.status, 200, src);
      assert.match(String(res.headers.get('content-type')), /javascript/, src);
    }
    for (const path of ['/_next/static/nothing-here.js', '/_next/image?url=%2Fx', '/_next/data/x.json']) {
      const res = await fetch(`${stack.app.url}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, 404, path);
    }
    assert.equal(stack.upstream.requests.length, before, 'no request reached the upstream');
  });
});
