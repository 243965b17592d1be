import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, nextStep, retryDelayMs, sameSession } from './schedule';
import type { SessionJson } from './types';

/** A session JSON as Gatehouse sends it; `changes` override single fields. */
function json(changes: { session?: Partial<SessionJson['session']>; tokens?: Partial<SessionJson['tokens']> } = {}): SessionJson {
  return {
    session: {
      created_at: '2030-01-01T10:00:00.000Z',
      ends_at: '2030-01-01T20:00:00.000Z',
      timeout_at: '0001-01-01T00:00:00Z',
      ends_in_seconds: 36_000,
      active: true,
      timeout_in_seconds: -1,
      ...changes.session,
    },
    tokens: {
      expire_at: '2030-01-01T10:05:00.000Z',
      refreshed_at: '2030-01-01T10:00:00.000Z',
      expire_in_seconds: 300,
      next_auto_refresh_in_seconds: 270,
      refresh_cooldown: true,
      refresh_cooldown_seconds: 60,
      ...changes.tokens,
    },
    user: { sub: 'alice', name: 'Alice Demo' },
  };
}

test('refresh at Gatehouse\'s auto-refresh moment, one second late (the server floors its seconds)', () => {
  assert.deepEqual(nextStep(json()), { kind: 'refresh', delayMs: 271_000 });
});

test('refresh due now: one second from now, past the moment the cooldown may still hold', () => {
  assert.deepEqual(nextStep(json({ tokens: { next_auto_refresh_in_seconds: 0, refresh_cooldown: false, refresh_cooldown_seconds: 0 } })), { kind: 'refresh', delayMs: 1000 });
});

test('never inside the cooldown, even if next_auto_refresh says sooner', () => {
  assert.deepEqual(nextStep(json({ tokens: { next_auto_refresh_in_seconds: 0, refresh_cooldown: true, refresh_cooldown_seconds: 4 } })), { kind: 'refresh', delayMs: 5000 });
});

test('no refresh token (next_auto_refresh -1): only a re-read when the session ends', () => {
  assert.deepEqual(nextStep(json({ tokens: { next_auto_refresh_in_seconds: -1 } })), { kind: 'recheck', delayMs: 36_001_000 });
});

test('the session ends (or goes idle) before the refresh would: re-read then instead', () => {
  assert.deepEqual(nextStep(json({ session: { ends_in_seconds: 100 } })), { kind: 'recheck', delayMs: 101_000 });
  assert.deepEqual(nextStep(json({ session: { timeout_in_seconds: 30 } })), { kind: 'recheck', delayMs: 31_000 });
});

test('nothing to do without a session or with an inactive one', () => {
  assert.equal(nextStep(null), null);
  assert.equal(nextStep(json({ session: { active: false } })), null);
});

test('a delay setTimeout cannot hold becomes a re-read at the longest it can', () => {
  const far = 30 * 24 * 3600;
  assert.deepEqual(nextStep(json({ session: { ends_in_seconds: far }, tokens: { next_auto_refresh_in_seconds: far - 10 } })), { kind: 'recheck', delayMs: MAX_TIMER_MS });
});

test('retry backoff: 5 s doubling to at most a minute', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 20].map(retryDelayMs), [5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
});

test('same session: a refresh, a new login or an idle session is a change; recomputed seconds are not', () => {
  assert.ok(sameSession(json(), json({ session: { ends_in_seconds: 1 }, tokens: { expire_in_seconds: 1 } })));
  assert.ok(!sameSession(json(), json({ tokens: { refreshed_at: '2030-01-01T10:04:30.000Z' } })));
  assert.ok(!sameSession(json(), json({ session: { created_at: '2030-01-01T11:00:00.000Z' } })));
  assert.ok(!sameSession(json(), json({ session: { active: false } })));
  assert.ok(!sameSession(json(), null));
  assert.ok(sameSession(null, null));
});
