// Several identity providers (SPEC §3 `/oauth2/sign-in`, §12): two real OpenID Providers, each with
// its own client for the app, in front of the production build with IDENTITY_PROVIDERS=corp,partner.
// The sign-in page, a login through each, the provider in the session JSON, refresh, logout and the
// logout channels going to the session's own provider, the mix-up defence, and one provider down.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/providers.test.ts

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { parseForms } from '../harness/forms';
import { Browser, FETCH_HEADERS, httpRequest, loginViaIdp } from '../harness/http';
import { PROVIDER_NAMES, startProvidersStack, type ProviderId, type ProvidersStack } from '../harness/providers-stack';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { elementAttr, NAV, sessionCookiesSet } from './support';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Short tokens make refresh observable: the cooldown is half the lifetime (SPEC §3). */
const TOKEN_TTL_SECONDS = 4;

async function signingKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: Record<string, unknown> }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

const get = (browser: Browser, url: string) => browser.get(url, { headers: NAV });

async function sessionJson(browser: Browser, appUrl: string): Promise<{ status: number; body: any }> {
  const res = await browser.get(`${appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
  const text = await res.text();
  return { status: res.status, body: res.status === 200 ? JSON.parse(text) : text };
}

async function loginAt(stack: ProvidersStack, provider: ProviderId, login = 'alice'): Promise<Browser> {
  const browser = new Browser();
  await loginViaIdp(browser, stack.appUrl, { login, query: { provider }, stopAfterCallback: true });
  return browser;
}

/** Follows a login for `provider` through its IdP's form up to the callback, which is not fetched. */
async function codeFrom(stack: ProvidersStack, browser: Browser, provider: ProviderId, login = 'alice'): Promise<URL> {
  const isCallback = (u: URL) => u.origin === stack.appUrl && u.pathname === '/oauth2/callback';
  const form = await browser.follow(`${stack.appUrl}/oauth2/login?provider=${provider}`, { stopAt: isCallback });
  const loginForm = parseForms(form.body, form.url).find((f) => 'login' in f.fields);
  assert.ok(loginForm, `expected ${provider}'s login form, got ${form.status} ${form.url}`);
  assert.equal(new URL(form.url).origin, stack.idps[provider].issuer, `the login for ${provider} should go to its IdP`);
  const done = await browser.submit(loginForm, { login, password: 'any' }, { stopAt: isCallback });
  assert.ok(done.stoppedAt, `the IdP did not redirect to the callback: ${done.status} ${done.url}`);
  return new URL(done.stoppedAt);
}

/** The `state` of a login for `provider` started in `browser` (its login cookie is set), unfinished. */
async function startLoginFor(stack: ProvidersStack, browser: Browser, provider: ProviderId): Promise<string> {
  const idp = stack.idps[provider];
  const before = idp.authorizationRequests.length;
  const res = await get(browser, `${stack.appUrl}/oauth2/login?provider=${provider}`);
  await res.body?.cancel();
  assert.equal(res.status, 302);
  assert.equal(new URL(res.headers.get('location')!).origin, idp.issuer);
  return idp.authorizationRequests[before].state;
}

const decode = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The sign-in page's buttons: id → { href, disabled, text }. */
function buttons(page: string): Record<string, { href?: string; disabled: boolean; text: string }> {
  const out: Record<string, { href?: string; disabled: boolean; text: string }> = {};
  for (const m of page.matchAll(/<(a|button)\b([^>]*)\bid="provider-([a-z0-9-]+)"([^>]*)>(.*?)<\/\1>/g)) {
    const attrs = m[2] + m[4];
    out[m[3]] = { href: elementAttr(page, `provider-${m[3]}`, 'href'), disabled: /\bdisabled\b/.test(attrs), text: decode(m[5].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()) };
  }
  return out;
}

describe('several identity providers (Redis store)', () => {
  let stack: ProvidersStack;
  let corpKey: CryptoKey;

  before(async () => {
    const corp = await signingKey('corp-key');
    corpKey = corp.privateKey;
    stack = await startProvidersStack({ redis: true, idp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS }, perIdp: { corp: { accessTokenTtlSeconds: TOKEN_TTL_SECONDS, jwks: { keys: [corp.jwk] } } } });
  });
  after(async () => {
    await stack?.close();
  });

  test('the sign-in page lists every provider by name and keeps the sanitised redirect', async () => {
    const res = await get(new Browser(), `${stack.appUrl}/oauth2/sign-in?redirect=${encodeURIComponent('/api/me?x=1')}&prompt=login`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(html, /<html lang="en">/);
    const found = buttons(html);
    assert.deepEqual(Object.keys(found), ['corp', 'partner']);
    for (const id of ['corp', 'partner'] as const) {
      assert.equal(found[id].text, PROVIDER_NAMES[id]);
      assert.equal(found[id].disabled, false);
      const href = new URL(found[id].href!, stack.appUrl);
      assert.equal(href.pathname, '/oauth2/login');
      assert.equal(href.searchParams.get('provider'), id);
      assert.equal(href.searchParams.get('redirect'), '/api/me?x=1');
      assert.equal(href.searchParams.get('prompt'), 'login', 'login options survive the sign-in page');
    }
    assert.match(html, /Partner &amp; Co/, 'names are escaped');
  });

  test('an off-site redirect is reduced to a same-origin path on the page (SPEC §6)', async () => {
    for (const [input, want] of [['https://evil.example/x', '/x'], ['//evil.example', '/'], ['/\\evil.example', '/']]) {
      const html = await (await get(new Browser(), `${stack.appUrl}/oauth2/sign-in?redirect=${encodeURIComponent(input)}`)).text();
      for (const b of Object.values(buttons(html))) assert.equal(new URL(b.href!, stack.appUrl).searchParams.get('redirect'), want, input);
    }
  });

  test('/oauth2/login without a provider sends a navigation to the sign-in page, keeping redirect', async () => {
    const res = await get(new Browser(), `${stack.appUrl}/oauth2/login?redirect=${encodeURIComponent('/api/x')}`);
    await res.body?.cancel();
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `/oauth2/sign-in?redirect=${encodeURIComponent('/api/x')}`);
  });

  test('an unknown provider is the error page with 400, and nothing goes to any IdP', async () => {
    const before = stack.idps.corp.authorizationRequests.length + stack.idps.partner.authorizationRequests.length;
    const res = await get(new Browser(), `${stack.appUrl}/oauth2/login?provider=elsewhere`);
    const html = await res.text();
    assert.equal(res.status, 400);
    assert.match(html, /This sign-in option does not exist/);
    assert.equal(stack.idps.corp.authorizationRequests.length + stack.idps.partner.authorizationRequests.length, before);
  });

  for (const provider of ['corp', 'partner'] as const) {
    test(`a login through ${provider} ends at the target with a session that names ${provider} last`, async () => {
      const browser = new Browser();
      const other = provider === 'corp' ? 'partner' : 'corp';
      const otherBefore = stack.idps[other].grants.authorizationCodeGrants;
      const result = await loginViaIdp(browser, stack.appUrl, { query: { provider }, redirect: '/api/whoami' });
      assert.equal(result.target, `${stack.appUrl}/api/whoami`);
      assert.equal(result.page.status, 200);
      assert.ok(result.hops.some((h) => new URL(h.url).origin === stack.idps[provider].issuer), 'the login went through its IdP');
      assert.ok(!result.hops.some((h) => new URL(h.url).origin === stack.idps[other].issuer), 'and never through the other');
      assert.equal(stack.idps[other].grants.authorizationCodeGrants, otherBefore);
      const { status, body } = await sessionJson(browser, stack.appUrl);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body.session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds', 'provider']);
      assert.equal(body.session.provider, provider);
      assert.equal(body.user.sub, 'alice');
    });
  }

  test('refresh goes to the session\'s own provider', async () => {
    const browser = await loginAt(stack, 'partner');
    const before = { corp: stack.idps.corp.grants.refreshGrants, partner: stack.idps.partner.grants.refreshGrants };
    // Wait out the refresh cooldown (half the 4 s token lifetime) by asking until it refreshes.
    await eventually('a refresh of the partner session', 10_000, async () => {
      const res = await browser.request(`${stack.appUrl}/oauth2/session/refresh`, { method: 'POST', headers: FETCH_HEADERS });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      return stack.idps.partner.grants.refreshGrants > before.partner;
    });
    assert.equal(stack.idps.corp.grants.refreshGrants, before.corp, 'corp saw no refresh');
    assert.equal(stack.idps.partner.grantLog.filter((g) => g.type === 'refresh_token' && !g.ok).length, 0);
    assert.equal((await sessionJson(browser, stack.appUrl)).body.session.provider, 'partner');
  });

  test('logout goes to the end-session endpoint of the session\'s provider, with its client', async () => {
    const browser = await loginAt(stack, 'partner');
    const res = await get(browser, `${stack.appUrl}/oauth2/logout`);
    await res.body?.cancel();
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    const metadata = await (await fetch(`${stack.idps.partner.issuer}/.well-known/openid-configuration`)).json() as { end_session_endpoint: string };
    assert.equal(`${location.origin}${location.pathname}`, metadata.end_session_endpoint);
    assert.equal(location.searchParams.get('client_id'), stack.clients.partner.clientId);
    assert.ok(location.searchParams.get('id_token_hint'));
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${stack.appUrl}/oauth2/logout/callback`);
    assert.equal((await sessionJson(browser, stack.appUrl)).status, 401);
  });

  test('a back-channel logout from partner ends only partner sessions, even for the same sub', async () => {
    const atCorp = await loginAt(stack, 'corp', 'bob');
    const atPartner = await loginAt(stack, 'partner', 'bob');
    await stack.idps.partner.backchannelLogout({ clientId: stack.clients.partner.clientId, sub: 'bob' });
    assert.equal((await sessionJson(atPartner, stack.appUrl)).status, 401, 'the partner session ended');
    assert.equal((await sessionJson(atCorp, stack.appUrl)).status, 200, 'the corp session lives on');
  });

  test('a logout token signed by corp but claiming partner\'s iss is refused; the same token as corp\'s ends the corp session', async () => {
    const atCorp = await loginAt(stack, 'corp', 'carol');
    const sid = stack.idps.corp.lastSid('carol');
    assert.ok(sid);
    const token = (iss: string, aud: string) =>
      new SignJWT({ sub: 'carol', sid, events: { [BACKCHANNEL_EVENT]: {} }, jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', kid: 'corp-key', typ: 'logout+jwt' })
        .setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime('2m')
        .sign(corpKey);
    const post = async (logoutToken: string) => {
      const res = await httpRequest(`${stack.appUrl}/oauth2/logout/backchannel`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      });
      return { status: res.status, text: await res.text() };
    };
    const mixed = await post(await token(stack.idps.partner.issuer, stack.clients.partner.clientId));
    assert.equal(mixed.status, 400);
    assert.deepEqual(JSON.parse(mixed.text), { error: 'invalid_request' });
    assert.equal((await sessionJson(atCorp, stack.appUrl)).status, 200, 'a refused token ends nothing');
    // Positive control: the very same key and claims under corp's own iss are a valid logout token.
    assert.equal((await post(await token(stack.idps.corp.issuer, stack.clients.corp.clientId))).status, 200);
    assert.equal((await sessionJson(atCorp, stack.appUrl)).status, 401);
  });

  test('front-channel logout: iss selects the provider; an unknown iss is refused', async () => {
    const atCorp = await loginAt(stack, 'corp', 'dave');
    const atPartner = await loginAt(stack, 'partner', 'dave');
    const sid = stack.idps.partner.lastSid('dave')!;
    const call = async (query: Record<string, string>) => {
      const res = await httpRequest(`${stack.appUrl}/oauth2/logout/frontchannel?${new URLSearchParams(query)}`);
      await res.text();
      return res.status;
    };
    assert.equal(await call({ iss: 'http://127.0.0.1:1', sid }), 400);
    // partner's sid under corp's iss matches no corp session.
    assert.equal(await call({ iss: stack.idps.corp.issuer, sid }), 200);
    assert.equal((await sessionJson(atPartner, stack.appUrl)).status, 200);
    assert.equal(await call({ iss: stack.idps.partner.issuer, sid }), 200);
    assert.equal((await sessionJson(atPartner, stack.appUrl)).status, 401);
    assert.equal((await sessionJson(atCorp, stack.appUrl)).status, 200);
  });

  test('mix-up: a code (and iss) from corp delivered to a login started for partner is refused, no session', async () => {
    const browser = new Browser();
    const partnerState = await startLoginFor(stack, browser, 'partner');
    const fromCorp = await codeFrom(stack, browser, 'corp', 'erin');
    assert.equal(fromCorp.searchParams.get('iss'), stack.idps.corp.issuer, 'the IdP sends RFC 9207 iss');
    const partnerTokenRequests = stack.idps.partner.grantLog.length;
    const corpTokenRequests = stack.idps.corp.grantLog.length;
    for (const iss of [stack.idps.corp.issuer, stack.idps.partner.issuer, null]) {
      const forged = new URL(fromCorp);
      forged.searchParams.set('state', partnerState);
      if (iss === null) forged.searchParams.delete('iss');
      else forged.searchParams.set('iss', iss);
      const res = await get(browser, forged.href);
      const html = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `iss=${iss}: expected the error page, got ${res.status}`);
      assert.match(html, /Error \d{3}/);
      assert.deepEqual(sessionCookiesSet(res.headers), [], `iss=${iss}: no session cookie`);
      assert.equal((await sessionJson(browser, stack.appUrl)).status, 401);
    }
    // The answer was checked against partner, the provider the login went to: the corp code never
    // reached corp's token endpoint, and partner refused it (or never saw it).
    assert.deepEqual(stack.idps.corp.grantLog.slice(corpTokenRequests), [], 'nothing was sent to corp\'s token endpoint');
    assert.ok(stack.idps.partner.grantLog.slice(partnerTokenRequests).every((g) => !g.ok));
    // Positive control: the same code with its own login's state is a good answer.
    const res = await get(browser, fromCorp.href);
    await res.body?.cancel();
    assert.equal(res.status, 302);
    assert.equal((await sessionJson(browser, stack.appUrl)).body.session.provider, 'corp');
  });
});

describe('several identity providers, one of them down at startup', () => {
  let stack: ProvidersStack;
  before(async () => {
    stack = await startProvidersStack({ down: ['partner'] });
  });
  after(async () => {
    await stack?.close();
  });

  test('its button is shown as unavailable and disabled; the other works', async () => {
    const res = await get(new Browser(), `${stack.appUrl}/oauth2/sign-in?redirect=%2Fapi%2Fme`);
    const html = await res.text();
    assert.equal(res.status, 200);
    const found = buttons(html);
    assert.equal(found.partner.disabled, true);
    assert.equal(found.partner.href, undefined);
    assert.match(found.partner.text, /Partner & Co.*unavailable/i);
    assert.equal(found.corp.disabled, false);
    const browser = new Browser();
    const result = await loginViaIdp(browser, stack.appUrl, { query: { provider: 'corp' }, redirect: '/api/me' });
    assert.equal(result.target, `${stack.appUrl}/api/me`);
    assert.equal((await sessionJson(browser, stack.appUrl)).body.session.provider, 'corp');
  });

  test('a login at the provider that is down is the error page (502); the instance stays ready', async () => {
    const res = await get(new Browser(), `${stack.appUrl}/oauth2/login?provider=partner`);
    await res.text();
    assert.equal(res.status, 502);
    const ready = await httpRequest(`${stack.appUrl}/oauth2/ready`);
    assert.equal(ready.status, 200, await ready.text());
  });
});

describe('a single identity provider: nothing changes', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({});
  });
  after(async () => {
    await stack?.close();
  });

  test('/oauth2/sign-in is a 302 to /oauth2/login keeping redirect; the session JSON has no provider', async () => {
    const res = await get(new Browser(), `${stack.appUrl}/oauth2/sign-in?redirect=${encodeURIComponent('/api/me')}`);
    await res.body?.cancel();
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `/oauth2/login?redirect=${encodeURIComponent('/api/me')}`);
    const browser = new Browser();
    await loginViaIdp(browser, stack.appUrl, { stopAfterCallback: true });
    const { body } = await sessionJson(browser, stack.appUrl);
    assert.deepEqual(Object.keys(body.session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds']);
  });
});

