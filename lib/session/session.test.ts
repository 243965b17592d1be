import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isActive, isValid, needsRefresh, nextAutoRefreshAt, refreshCooldownMs, timeoutAt, touch, type Session, type SessionTimings, type Tokens } from './session';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

function makeSession(over: Partial<Omit<Session, 'tokens'>> = {}, tokens: Partial<Tokens> = {}): Session {
  return {
    id: 'session-1',
    createdAt: T0,
    endsAt: T0 + 10 * HOUR,
    lastSeenAt: T0,
    sid: 'idp-sid',
    sub: 'alice',
    user: { name: 'Alice' },
    tokens: { accessToken: 'at', idToken: 'it', refreshToken: 'rt', expiresAt: T0 + HOUR, refreshedAt: T0, ...tokens },
    ...over,
  };
}

const noIdle: SessionTimings = { inactivityTimeoutMs: null, refreshBeforeMs: 30 * S };
const idle30m: SessionTimings = { inactivityTimeoutMs: 30 * MIN, refreshBeforeMs: 30 * S };

describe('timeoutAt', () => {
  test('null without an inactivity timeout', () => {
    assert.equal(timeoutAt(makeSession(), noIdle), null);
  });
  test('last activity plus the timeout', () => {
    assert.equal(timeoutAt(makeSession({ lastSeenAt: T0 + 5 * MIN }), idle30m), T0 + 35 * MIN);
  });
});

describe('isActive / isValid', () => {
  const cases: { name: string; session: Session; timings: SessionTimings; now: number; active: boolean; valid: boolean }[] = [
    { name: 'fresh session', session: makeSession(), timings: noIdle, now: T0, active: true, valid: true },
    { name: 'one ms before the absolute end', session: makeSession(), timings: noIdle, now: T0 + 10 * HOUR - 1, active: true, valid: true },
    { name: 'at the absolute end', session: makeSession(), timings: noIdle, now: T0 + 10 * HOUR, active: false, valid: false },
    { name: 'past the absolute end', session: makeSession(), timings: noIdle, now: T0 + 11 * HOUR, active: false, valid: false },
    { name: 'no idle timeout: long idle is fine', session: makeSession(), timings: noIdle, now: T0 + 9 * HOUR, active: true, valid: true },
    { name: 'idle timeout: one ms before it', session: makeSession(), timings: idle30m, now: T0 + 30 * MIN - 1, active: true, valid: true },
    { name: 'idle timeout: at it', session: makeSession(), timings: idle30m, now: T0 + 30 * MIN, active: false, valid: false },
    { name: 'idle timeout counts from the last activity', session: makeSession({ lastSeenAt: T0 + 2 * HOUR }), timings: idle30m, now: T0 + 2 * HOUR + 29 * MIN, active: true, valid: true },
    { name: 'idle timeout cannot extend past the absolute end', session: makeSession({ lastSeenAt: T0 + 10 * HOUR - MIN }), timings: idle30m, now: T0 + 10 * HOUR, active: false, valid: false },
    { name: 'expired access token: still active and valid (refresh decides)', session: makeSession({}, { expiresAt: T0 - MIN }), timings: noIdle, now: T0, active: true, valid: true },
    { name: 'no access token: active but not valid', session: makeSession({}, { accessToken: '' }), timings: noIdle, now: T0, active: true, valid: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(isActive(c.session, c.timings, c.now), c.active, 'active');
      assert.equal(isValid(c.session, c.timings, c.now), c.valid, 'valid');
    });
  }
});

describe('refreshCooldownMs', () => {
  const cases: { name: string; input: Partial<Tokens>; want: number }[] = [
    { name: 'one-hour token: 60 s', input: { refreshedAt: T0, expiresAt: T0 + HOUR }, want: 60 * S },
    { name: 'just over two minutes: 60 s', input: { refreshedAt: T0, expiresAt: T0 + 2 * MIN + 1 }, want: 60 * S },
    { name: 'exactly two minutes: half the lifetime', input: { refreshedAt: T0, expiresAt: T0 + 2 * MIN }, want: 60 * S },
    { name: 'one-minute token: 30 s', input: { refreshedAt: T0, expiresAt: T0 + MIN }, want: 30 * S },
    { name: 'ten-second token: 5 s', input: { refreshedAt: T0, expiresAt: T0 + 10 * S }, want: 5 * S },
    { name: 'odd lifetime rounds down', input: { refreshedAt: T0, expiresAt: T0 + 3 }, want: 1 },
    { name: 'unknown expiry: 60 s', input: { refreshedAt: T0, expiresAt: 0 }, want: 60 * S },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => {
      assert.equal(refreshCooldownMs(makeSession({}, input).tokens), want);
    });
  }
});

describe('nextAutoRefreshAt', () => {
  const cases: { name: string; input: Session; timings: SessionTimings; want: number | null }[] = [
    { name: 'no refresh token: never', input: makeSession({}, { refreshToken: undefined }), timings: noIdle, want: null },
    { name: 'unknown expiry: never', input: makeSession({}, { expiresAt: 0 }), timings: noIdle, want: null },
    { name: 'one-hour token: refresh-before window ahead of expiry', input: makeSession(), timings: noIdle, want: T0 + HOUR - 30 * S },
    { name: 'larger window', input: makeSession(), timings: { inactivityTimeoutMs: null, refreshBeforeMs: 5 * MIN }, want: T0 + 55 * MIN },
    { name: 'one-minute token: the cooldown end (30 s) and the window agree', input: makeSession({}, { expiresAt: T0 + MIN }), timings: noIdle, want: T0 + 30 * S },
    { name: 'ten-second token: never before the cooldown ends', input: makeSession({}, { expiresAt: T0 + 10 * S }), timings: noIdle, want: T0 + 5 * S },
    { name: 'window larger than the lifetime: cooldown end', input: makeSession({}, { expiresAt: T0 + 90 * S }), timings: { inactivityTimeoutMs: null, refreshBeforeMs: 5 * MIN }, want: T0 + 45 * S },
    { name: 'counts from the last refresh', input: makeSession({}, { refreshedAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR }), timings: noIdle, want: T0 + 2 * HOUR - 30 * S },
  ];
  for (const { name, input, timings, want } of cases) {
    test(name, () => {
      assert.equal(nextAutoRefreshAt(input, timings), want);
    });
  }
});

describe('needsRefresh', () => {
  const cases: { name: string; input: Session; now: number; want: boolean }[] = [
    { name: 'fresh token', input: makeSession(), now: T0 + MIN, want: false },
    { name: 'one ms before the window', input: makeSession(), now: T0 + HOUR - 30 * S - 1, want: false },
    { name: 'window starts', input: makeSession(), now: T0 + HOUR - 30 * S, want: true },
    { name: 'expired', input: makeSession(), now: T0 + 2 * HOUR, want: true },
    { name: 'expired but no refresh token', input: makeSession({}, { refreshToken: undefined }), now: T0 + 2 * HOUR, want: false },
    { name: 'unknown expiry', input: makeSession({}, { expiresAt: 0 }), now: T0 + 20 * HOUR, want: false },
    { name: 'ten-second token inside its cooldown', input: makeSession({}, { expiresAt: T0 + 10 * S }), now: T0 + 4_999, want: false },
    { name: 'ten-second token after its cooldown', input: makeSession({}, { expiresAt: T0 + 10 * S }), now: T0 + 5 * S, want: true },
  ];
  for (const { name, input, now, want } of cases) {
    test(name, () => {
      assert.equal(needsRefresh(input, noIdle, now), want);
    });
  }
});

describe('touch', () => {
  test('returns the same object when nothing changes', () => {
    const s = makeSession({ lastSeenAt: T0 + MIN });
    assert.equal(touch(s, T0 + MIN), s);
  });

  test('returns a copy with the new activity time and leaves the original alone', () => {
    const s = makeSession();
    const touched = touch(s, T0 + 10 * MIN);
    assert.notEqual(touched, s);
    assert.equal(touched.lastSeenAt, T0 + 10 * MIN);
    assert.equal(s.lastSeenAt, T0);
    assert.deepEqual({ ...touched, lastSeenAt: T0 }, s);
  });

  test('extends the inactivity deadline', () => {
    const s = makeSession();
    const now = T0 + 29 * MIN;
    assert.equal(isActive(s, idle30m, T0 + 45 * MIN), false);
    assert.equal(isActive(touch(s, now), idle30m, T0 + 45 * MIN), true);
    assert.equal(timeoutAt(touch(s, now), idle30m), now + 30 * MIN);
  });
});
