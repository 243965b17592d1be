/**
 * `GET /oauth2/session` and `POST /oauth2/session/refresh` (SPEC §3) through the in-memory runtime.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cookieNames } from '../http/cookies';
import { memoryRuntime, type MemoryRuntime } from '../testing/memory-runtime';
import type { CookieJar } from '../testing/cookie-jar';
import { getSessionInfo, refreshSession } from './session';

const info = async (rt: MemoryRuntime, jar?: CookieJar) => {
  const response = await getSessionInfo(rt.gh, rt.request('/oauth2/session', { jar }));
  jar?.take(response);
  return response;
};
const refresh = async (rt: MemoryRuntime, jar: CookieJar) => jar.take(await refreshSession(rt.gh, rt.request('/oauth2/session/refresh', { jar, method: 'POST' })));
const sessionCookie = (rt: MemoryRuntime) => cookieNames(rt.config.cookiePrefix).session;

describe('session JSON', () => {
  test('no cookie: 401 JSON', async () => {
    const rt = await memoryRuntime();
    const response = await info(rt);
    assert.equal(response.status, 401);
    assert.equal((await response.json()).error, 'unauthenticated');
  });

  test('a session: 200 with its times and user, and never a token', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    const response = await info(rt, jar);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.ok(!text.includes(session.tokens.accessToken) && !text.includes(session.tokens.refreshToken!));
    const body = JSON.parse(text);
    assert.equal(body.session.active, true);
    assert.equal(body.user.sub, session.sub);
    assert.equal(body.tokens.refreshed_at, new Date(session.tokens.refreshedAt).toISOString());
  });

  test('a session that ended in the store: 401, and the cookie is cleared', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.store!.expire(session.id);
    assert.equal((await info(rt, jar)).status, 401);
    assert.equal(jar.cookies.has(sessionCookie(rt)), false);
  });

  test('Redis down: 401 without touching the cookie', async () => {
    const rt = await memoryRuntime();
    const { jar } = await rt.signIn();
    rt.store!.mode = 'down';
    const response = await info(rt, jar);
    assert.equal(response.status, 401);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });
});

describe('session refresh endpoint', () => {
  test('within the cooldown: 200 with the current tokens, no grant', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.clock.advance(10_000);
    const response = await refresh(rt, jar);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).tokens.refreshed_at, new Date(session.tokens.refreshedAt).toISOString());
    assert.equal(rt.idp.grants.refresh_token, 0);
  });

  test('after the cooldown: one grant, the new tokens stored, 200 with the new refresh time', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.clock.advance(61_000);
    const response = await refresh(rt, jar);
    assert.equal(response.status, 200);
    assert.equal(rt.idp.grants.refresh_token, 1);
    const stored = rt.store!.peek(session.id)!;
    assert.notEqual(stored.tokens.accessToken, session.tokens.accessToken);
    assert.equal((await response.json()).tokens.refreshed_at, new Date(stored.tokens.refreshedAt).toISOString());
  });

  test('the IdP does not answer: 503, the session stays', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.idp.refreshAnswer = 'unavailable';
    rt.clock.advance(61_000);
    const response = await refresh(rt, jar);
    assert.equal(response.status, 503);
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, session.tokens.accessToken);
    assert.ok(jar.cookies.has(sessionCookie(rt)));
  });

  test('the refresh token rejected: 401, the session ended and its cookie cleared', async () => {
    const rt = await memoryRuntime();
    const { session, jar } = await rt.signIn();
    rt.idp.refreshAnswer = 'rejected';
    rt.clock.advance(61_000);
    assert.equal((await refresh(rt, jar)).status, 401);
    assert.equal(rt.store!.peek(session.id), null);
    assert.equal(jar.cookies.has(sessionCookie(rt)), false);
  });

  test('a session without a refresh token: 401, no grant', async () => {
    const rt = await memoryRuntime();
    const probe = await rt.signIn();
    const { jar } = await rt.signIn({ tokens: { ...probe.session.tokens, refreshToken: undefined } });
    rt.clock.advance(61_000);
    assert.equal((await refresh(rt, jar)).status, 401);
    assert.equal(rt.idp.grants.refresh_token, 0);
  });
});
