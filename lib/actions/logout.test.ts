/**
 * RP-initiated logout, its callback, and local logout (SPEC §3) through the in-memory runtime.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cookieNames } from '../http/cookies';
import { memoryRuntime, type MemoryRuntime } from '../testing/memory-runtime';
import { isStoreUnavailable } from '../session/store';
import { logout, logoutCallback, logoutLocal } from './logout';

const names = (rt: MemoryRuntime) => cookieNames(rt.config.cookiePrefix);

describe('RP-initiated logout', () => {
  test('ends the session, then sends the browser to the end-session endpoint with id_token_hint and state', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    const copied = jar.clone();
    const response = jar.take(await logout(rt.gh, rt.request('/oauth2/logout?redirect=/goodbye', { jar })));
    assert.equal(response.status, 302);
    const to = new URL(response.headers.get('location')!);
    assert.equal(`${to.origin}${to.pathname}`, rt.idp.metadata.end_session_endpoint);
    assert.equal(to.searchParams.get('id_token_hint'), session.tokens.idToken);
    assert.equal(to.searchParams.get('post_logout_redirect_uri'), 'https://app.test/oauth2/logout/callback');
    assert.ok(to.searchParams.get('state'));
    assert.equal(rt.store!.peek(session.id), null);
    assert.equal(jar.cookies.has(names(rt).session), false);
    assert.ok(jar.cookies.has(names(rt).logout), 'the logout transaction is kept for the callback');
    assert.equal((await rt.gh.sessions.lookup(copied.cookies, rt.clock.now())).state, 'ended', 'a copied cookie is dead too');

    // The IdP sends the browser back with the state: it lands where the logout asked.
    const back = jar.take(await logoutCallback(rt.gh, rt.request(`/oauth2/logout/callback?state=${to.searchParams.get('state')}`, { jar })));
    assert.equal(back.status, 302);
    assert.equal(back.headers.get('location'), '/goodbye');
    assert.equal(jar.cookies.has(names(rt).logout), false);
  });

  test('a logout callback with a wrong state goes to the default page, not the remembered target', async () => {
    const rt = await memoryRuntime();
    const { jar } = await rt.signIn();
    jar.take(await logout(rt.gh, rt.request('/oauth2/logout?redirect=/goodbye', { jar })));
    const back = await logoutCallback(rt.gh, rt.request('/oauth2/logout/callback?state=forged', { jar }));
    assert.equal(back.status, 302);
    assert.equal(back.headers.get('location'), 'https://app.test/');
  });

  test('Redis down: the logout fails rather than report a session ended that a copied cookie still opens', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.store!.mode = 'down';
    await assert.rejects(logout(rt.gh, rt.request('/oauth2/logout', { jar })), (error) => isStoreUnavailable(error));
    rt.store!.mode = 'up';
    assert.ok(rt.store!.peek(session.id));
  });

  test('a fetch() from a page (Sec-Fetch, not a navigation) gets 401 JSON and the session stays', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    const response = await logout(rt.gh, rt.request('/oauth2/logout', { jar, headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' } }));
    assert.equal(response.status, 401);
    assert.ok(rt.store!.peek(session.id));
  });
});

describe('local logout', () => {
  test('204, the session gone from the store and its cookie cleared; no trip to the IdP', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    const response = jar.take(await logoutLocal(rt.gh, rt.request('/oauth2/logout/local', { jar })));
    assert.equal(response.status, 204);
    assert.equal(rt.store!.peek(session.id), null);
    assert.equal(jar.cookies.has(names(rt).session), false);
  });

  test('with the cookie store, a copied cookie is revoked in this process', async () => {
    const rt = await memoryRuntime({ store: 'cookie' });
    const { jar } = await rt.signIn();
    const copied = jar.clone();
    jar.take(await logoutLocal(rt.gh, rt.request('/oauth2/logout/local', { jar })));
    assert.equal((await rt.gh.sessions.lookup(copied.cookies, rt.clock.now())).state, 'ended');
  });
});
