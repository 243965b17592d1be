/**
 * The store fallback (lib/session/sessions.ts, SPEC §5) with the in-memory Redis stand-in down:
 * new logins fall back to a cookie, a ticket cannot be read ("unavailable", cookie kept), and a
 * logout refuses to pretend it ended a session it could not delete.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cookieNames } from '../http/cookies';
import { metrics } from '../metrics';
import { CookieJar } from '../testing/cookie-jar';
import { memoryRuntime } from '../testing/memory-runtime';
import { counterValue } from '../testing/metrics';
import { newSession } from '../testing/store-contract';
import { isStoreUnavailable } from './store';

describe('Sessions: Redis down', () => {
  test('create falls back to the cookie store, counted in gatehouse_store_fallbacks_total', async () => {
    const rt = await memoryRuntime();
    rt.store!.mode = 'down';
    const before = await counterValue(metrics.storeFallbacks);
    const ctx = rt.request('/oauth2/callback');
    const session = newSession();
    const created = await rt.gh.relyingParty.sessions.create(session, ctx.cookies, ctx.scope);
    assert.equal(created.store, 'cookie');
    assert.equal(await counterValue(metrics.storeFallbacks), before + 1);
    assert.equal(rt.store!.count('create'), 1, 'Redis was asked first');

    const jar = CookieJar.of(created.setCookies);
    const lookup = await rt.gh.sessions.lookup(jar.cookies, rt.clock.now());
    assert.equal(lookup.state, 'found', 'the cookie session works while Redis is still down');
    assert.equal(lookup.state === 'found' && lookup.payload.t, 'inline');
    assert.deepEqual(lookup.state === 'found' && lookup.session, session);
  });

  test('create with Redis up keeps only a ticket in the cookie', async () => {
    const rt = await memoryRuntime();
    const before = await counterValue(metrics.storeFallbacks);
    const ctx = rt.request('/oauth2/callback');
    const session = newSession();
    const created = await rt.gh.relyingParty.sessions.create(session, ctx.cookies, ctx.scope);
    assert.equal(created.store, 'redis');
    assert.equal(await counterValue(metrics.storeFallbacks), before);
    const cookie = CookieJar.of(created.setCookies).cookies.get(cookieNames(rt.config.cookiePrefix).session)!;
    assert.ok(!cookie.includes(session.tokens.accessToken));
    assert.ok(rt.store!.peek(session.id));
  });

  test('a ticket looked up while Redis is down is "unavailable", counted as a store error', async () => {
    const rt = await memoryRuntime();
    const { jar } = await rt.signIn();
    rt.store!.mode = 'down';
    const before = await counterValue(metrics.storeErrors, { store: 'redis' });
    const lookup = await rt.gh.sessions.lookup(jar.cookies, rt.clock.now());
    assert.equal(lookup.state, 'unavailable');
    assert.equal(await counterValue(metrics.storeErrors, { store: 'redis' }), before + 1);
  });

  test('a cookie session made during the outage still reads after Redis is back', async () => {
    const rt = await memoryRuntime();
    rt.store!.mode = 'down';
    const ctx = rt.request('/oauth2/callback');
    const jar = CookieJar.of((await rt.gh.relyingParty.sessions.create(newSession(), ctx.cookies, ctx.scope)).setCookies);
    rt.store!.mode = 'up';
    assert.equal((await rt.gh.sessions.lookup(jar.cookies, rt.clock.now())).state, 'found');
  });

  test('end() while Redis is down throws (the cookie stays), unless bestEffort', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    const ctx = rt.request('/oauth2/logout', { jar });
    const lookup = await rt.gh.sessions.lookup(ctx.cookies, ctx.now);
    rt.store!.mode = 'down';
    await assert.rejects(rt.gh.relyingParty.sessions.end(lookup, ctx.cookies, ctx.scope), (error) => isStoreUnavailable(error));
    const cleared = await rt.gh.relyingParty.sessions.end(lookup, ctx.cookies, ctx.scope, { bestEffort: true });
    const name = cookieNames(rt.config.cookiePrefix).session;
    assert.ok(jar.cookies.has(name));
    jar.take(cleared);
    assert.equal(jar.cookies.has(name), false, 'bestEffort clears the cookie');
    rt.store!.mode = 'up';
    assert.ok(rt.store!.peek(session.id), 'the stored session lapses on its own');
  });

  test('endBySubject reaches every store: Redis sessions and cookie sessions of that sid', async () => {
    const rt = await memoryRuntime();
    const ctx = rt.request('/');
    const stored = newSession({ sid: 'sid-x' });
    const redisJar = CookieJar.of((await rt.gh.relyingParty.sessions.create(stored, ctx.cookies, ctx.scope)).setCookies);
    rt.store!.mode = 'down';
    const cookieJar = CookieJar.of((await rt.gh.relyingParty.sessions.create(newSession({ sid: 'sid-x' }), ctx.cookies, ctx.scope)).setCookies);
    rt.store!.mode = 'up';
    await rt.gh.relyingParty.sessions.endBySubject({ sid: 'sid-x', verified: true });
    assert.equal((await rt.gh.sessions.lookup(redisJar.cookies, rt.clock.now())).state, 'ended');
    assert.equal((await rt.gh.sessions.lookup(cookieJar.cookies, rt.clock.now())).state, 'ended');
  });
});
