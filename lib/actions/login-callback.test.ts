/**
 * Login → IdP → callback through the in-memory runtime: openid-client does PKCE, state, nonce,
 * RFC 9207 `iss` and the id_token signature against the fake IdP's real signed answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cookieNames } from '../http/cookies';
import { CookieJar } from '../testing/cookie-jar';
import { memoryRuntime, type MemoryRuntime } from '../testing/memory-runtime';
import { callback } from './callback';
import { login } from './login';
import { getSessionInfo } from './session';

/** The browser's round trip: login, the IdP's redirect back, the callback. */
async function logIn(rt: MemoryRuntime, jar: CookieJar, path = '/oauth2/login?redirect=/app/page') {
  const started = jar.take(await login(rt.gh, rt.request(path, { jar })));
  assert.equal(started.status, 302);
  const back = rt.idp.authorize(started.headers.get('location')!);
  return jar.take(await callback(rt.gh, rt.request(back.pathname + back.search, { jar })));
}

describe('login and callback', () => {
  test('a round trip creates a session in the store and lands on the requested page', async () => {
    const rt = await memoryRuntime();
    const jar = new CookieJar();
    const done = await logIn(rt, jar);
    assert.equal(done.status, 302);
    assert.equal(done.headers.get('location'), '/app/page');
    assert.equal(rt.idp.grants.authorization_code, 1);
    const names = cookieNames(rt.config.cookiePrefix);
    assert.ok(jar.cookies.has(names.session), 'session cookie set');
    assert.equal([...jar.cookies.keys()].filter((n) => n.startsWith(names.loginPrefix)).length, 0, 'login cookie cleared');
    assert.equal(await rt.store!.countActive(), 1);

    const info = await getSessionInfo(rt.gh, rt.request('/oauth2/session', { jar }));
    assert.equal(info.status, 200);
    const body = await info.json();
    assert.equal(body.user.sub, 'alice');
    assert.equal(body.user.email, 'alice@example.com');
    assert.equal(body.user.nonce, undefined, 'token claims are not user claims');
  });

  test('the authorization request carries PKCE S256, state and nonce, and the redirect URI of the ingress', async () => {
    const rt = await memoryRuntime();
    const jar = new CookieJar();
    await logIn(rt, jar);
    const [q] = rt.idp.authorizations;
    assert.equal(q.get('client_id'), rt.idp.clientId);
    assert.equal(q.get('redirect_uri'), 'https://app.test/oauth2/callback');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.ok(q.get('state') && q.get('nonce'));
  });

  test('a callback whose state belongs to no login cookie is refused, and no code is exchanged', async () => {
    const rt = await memoryRuntime();
    const jar = new CookieJar();
    const started = jar.take(await login(rt.gh, rt.request('/oauth2/login', { jar })));
    const back = rt.idp.authorize(started.headers.get('location')!);
    const otherBrowser = new CookieJar();
    const done = await callback(rt.gh, rt.request(back.pathname + back.search, { jar: otherBrowser }));
    assert.equal(done.status, 400);
    assert.equal(rt.idp.grants.authorization_code, 0);
    assert.equal(await rt.store!.countActive(), 0);
  });

  test('a callback answered with another issuer (mix-up) makes no session', async () => {
    const rt = await memoryRuntime();
    const jar = new CookieJar();
    const started = jar.take(await login(rt.gh, rt.request('/oauth2/login', { jar })));
    const back = rt.idp.authorize(started.headers.get('location')!);
    back.searchParams.set('iss', 'https://evil.test');
    const done = await callback(rt.gh, rt.request(back.pathname + back.search, { jar }));
    assert.equal(done.status, 400);
    assert.equal(rt.idp.grants.authorization_code, 0, 'the code never reached the token endpoint');
    assert.equal(await rt.store!.countActive(), 0);
  });

  test('Redis down at the callback: the session is kept in a cookie instead', async () => {
    const rt = await memoryRuntime();
    const jar = new CookieJar();
    const started = jar.take(await login(rt.gh, rt.request('/oauth2/login?redirect=/x', { jar })));
    const back = rt.idp.authorize(started.headers.get('location')!);
    rt.store!.mode = 'down';
    const done = jar.take(await callback(rt.gh, rt.request(back.pathname + back.search, { jar })));
    assert.equal(done.status, 302);
    assert.equal(done.headers.get('location'), '/x');
    const lookup = await rt.gh.sessions.lookup(jar.cookies, rt.clock.now());
    assert.equal(lookup.state, 'found');
    assert.equal(lookup.state === 'found' && lookup.payload.t, 'inline');
  });

  test('a new login replaces the previous session of the browser', async () => {
    const rt = await memoryRuntime();
    const jar = new CookieJar();
    await logIn(rt, jar);
    const first = await rt.gh.sessions.lookup(jar.cookies, rt.clock.now());
    assert.equal(first.state, 'found');
    await logIn(rt, jar);
    const second = await rt.gh.sessions.lookup(jar.cookies, rt.clock.now());
    assert.equal(second.state, 'found');
    assert.notEqual(first.state === 'found' && first.session.id, second.state === 'found' && second.session.id);
    assert.equal(await rt.store!.countActive(), 1, 'the old session was ended');
  });
});
