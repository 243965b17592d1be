/**
 * Session resolution (lib/session/current.ts, lib/session/resolve.ts) through the in-memory runtime:
 * the gate's view of one request's session. Refreshes go through openid-client to the fake IdP,
 * whose refresh tokens rotate (a used one replayed is `invalid_grant`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cookieNames } from '../http/cookies';
import { memoryRuntime, type MemoryRuntime } from '../testing/memory-runtime';
import type { CookieJar } from '../testing/cookie-jar';
import { current } from './current';
import { resolveSession } from './resolve';

/** Past the refresh window of a 300 s token (SESSION_REFRESH_BEFORE 30 s), and past the cooldown. */
const DUE = 271_000;

async function resolveFor(rt: MemoryRuntime, jar: CookieJar) {
  const ctx = rt.request('/api/data', { jar });
  const resolved = await resolveSession(rt.gh, ctx.cookies, ctx.scope, ctx.now);
  jar.take(resolved.setCookies);
  return resolved;
}

const sessionCookie = (rt: MemoryRuntime) => cookieNames(rt.config.cookiePrefix).session;

describe('resolveSession: refresh', () => {
  test('a stored session is refreshed when due; the ticket cookie does not change', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.clock.advance(DUE);
    const resolved = await resolveFor(rt, jar);
    assert.equal(rt.idp.grants.refresh_token, 1);
    assert.ok(resolved.session);
    assert.notEqual(resolved.session.tokens.accessToken, session.tokens.accessToken);
    assert.deepEqual(resolved.setCookies, []);
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, resolved.session.tokens.accessToken);
  });

  test('not due yet: no grant, the session as stored', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.clock.advance(DUE - 2_000);
    const resolved = await resolveFor(rt, jar);
    assert.equal(rt.idp.grants.refresh_token, 0);
    assert.equal(resolved.session?.tokens.accessToken, session.tokens.accessToken);
  });

  test('the IdP down at refresh: the session goes on with its current tokens', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.idp.refreshAnswer = 'unavailable';
    rt.clock.advance(DUE);
    const resolved = await resolveFor(rt, jar);
    assert.equal(resolved.session?.tokens.accessToken, session.tokens.accessToken);
    assert.ok(jar.cookies.has(sessionCookie(rt)));
  });

  test('the refresh token rejected: no session, and the cookie is cleared', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.idp.refreshAnswer = 'rejected';
    rt.clock.advance(DUE);
    const resolved = await resolveFor(rt, jar);
    assert.equal(resolved.session, null);
    assert.equal(jar.cookies.has(sessionCookie(rt)), false);
    assert.equal(rt.store!.peek(session.id), null);
  });
});

describe('resolveSession: cookie sessions', () => {
  test('a cookie session is refreshed into a new cookie; the old cookie then resolves to the newer tokens without a grant', async () => {
    const rt = await memoryRuntime({ store: 'cookie' });
    const { session, jar } = await rt.signIn();
    const oldCookie = jar.clone(); // a parallel request, or a tab that still sends the old cookie
    rt.clock.advance(DUE);
    const refreshed = await resolveFor(rt, jar);
    assert.equal(rt.idp.grants.refresh_token, 1);
    assert.ok(refreshed.session && refreshed.setCookies.length > 0, 'the browser gets the new tokens');
    assert.notEqual(jar.cookies.get(sessionCookie(rt)), oldCookie.cookies.get(sessionCookie(rt)));

    const seen = await current(rt.gh, oldCookie.cookies, rt.clock.now());
    assert.equal(seen.session?.tokens.accessToken, refreshed.session.tokens.accessToken, 'current() prefers the newer tokens');
    const again = await resolveFor(rt, oldCookie);
    // Its refresh token was rotated away: refreshing with it would have ended the session.
    assert.equal(rt.idp.grants.refresh_token, 1);
    assert.equal(again.session?.tokens.accessToken, refreshed.session.tokens.accessToken);
    assert.ok(again.setCookies.length > 0, 'the old cookie is replaced by one with the newer tokens');
    const fromNewCookie = await rt.gh.sessions.lookup(oldCookie.cookies, rt.clock.now());
    assert.equal(fromNewCookie.state === 'found' && fromNewCookie.session.tokens.accessToken, refreshed.session.tokens.accessToken);
    assert.notEqual(refreshed.session.tokens.accessToken, session.tokens.accessToken);
  });
});

describe('resolveSession: inactivity', () => {
  test('a request marks the session as used, at most once a touch interval', async () => {
    const rt = await memoryRuntime({ env: { SESSION_INACTIVITY_TIMEOUT: '30m' } });
    const { session, jar } = await rt.signIn();
    const updates = rt.store!.count('update');
    rt.clock.advance(30_000);
    await resolveFor(rt, jar);
    assert.equal(rt.store!.count('update'), updates, 'no write within the touch interval');
    rt.clock.advance(30_000);
    const resolved = await resolveFor(rt, jar);
    assert.equal(resolved.session?.lastSeenAt, rt.clock.now());
    assert.equal(rt.store!.peek(session.id)?.lastSeenAt, rt.clock.now());
  });

  test('idle past the timeout: no session', async () => {
    const rt = await memoryRuntime({ env: { SESSION_INACTIVITY_TIMEOUT: '30m' } });
    const { jar } = await rt.signIn();
    rt.clock.advance(30 * 60_000);
    const resolved = await resolveFor(rt, jar);
    assert.equal(resolved.session, null);
  });
});

describe('resolveSession: ended and unavailable', () => {
  test('a session gone from its store: no session, and the cookie is cleared', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.store!.expire(session.id);
    const resolved = await resolveFor(rt, jar);
    assert.equal(resolved.lookup.state, 'ended');
    assert.equal(resolved.session, null);
    assert.equal(jar.cookies.has(sessionCookie(rt)), false);
  });

  test('Redis down: no session for this request, and the cookie is kept', async () => {
    const rt = await memoryRuntime();
    const { jar } = await rt.signIn();
    rt.store!.mode = 'down';
    const resolved = await resolveFor(rt, jar);
    assert.equal(resolved.lookup.state, 'unavailable');
    assert.equal(resolved.session, null);
    assert.deepEqual(resolved.setCookies, []);
    rt.store!.mode = 'up';
    assert.ok((await resolveFor(rt, jar)).session, 'the same cookie works again once Redis is back');
  });
});
