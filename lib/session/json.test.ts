import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sessionJson } from './json';
import type { Session, SessionTimings, Tokens } from './session';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ZERO_TIME = '0001-01-01T00:00:00Z';

const ACCESS = 'access-token-SECRET-aaaaaaaaaaaaaaaa';
const ID = 'eyJhbGciOiJSUzI1NiJ9.id-token-SECRET.sig';
const REFRESH = 'refresh-token-SECRET-rrrrrrrrrrrrrrrr';

function makeSession(over: Partial<Omit<Session, 'tokens'>> = {}, tokens: Partial<Tokens> = {}): Session {
  return {
    id: 'session-id-1234',
    createdAt: T0,
    endsAt: T0 + 10 * HOUR,
    lastSeenAt: T0,
    sid: 'idp-sid-5678',
    sub: 'alice',
    user: { name: 'Alice Example', email: 'alice@example.com', preferred_username: 'alice' },
    tokens: { accessToken: ACCESS, idToken: ID, refreshToken: REFRESH, expiresAt: T0 + HOUR, refreshedAt: T0, ...tokens },
    ...over,
  };
}

const noIdle: SessionTimings = { inactivityTimeoutMs: null, refreshBeforeMs: 30 * S };
const idle30m: SessionTimings = { inactivityTimeoutMs: 30 * MIN, refreshBeforeMs: 30 * S };

/** What a client sees: the JSON text parsed back. */
const render = (s: Session, t: SessionTimings, now: number) => JSON.parse(JSON.stringify(sessionJson(s, t, now)));

describe('sessionJson', () => {
  test('field names and order as SPEC §3', () => {
    const json = render(makeSession(), idle30m, T0);
    assert.deepEqual(Object.keys(json), ['session', 'tokens', 'user']);
    assert.deepEqual(Object.keys(json.session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds']);
    assert.deepEqual(Object.keys(json.tokens), ['expire_at', 'refreshed_at', 'expire_in_seconds', 'next_auto_refresh_in_seconds', 'refresh_cooldown', 'refresh_cooldown_seconds']);
    assert.equal(Object.keys(json.user)[0], 'sub');
  });

  test('timestamps are RFC 3339 and name the right instants', () => {
    for (const timings of [noIdle, idle30m]) {
      const json = render(makeSession(), timings, T0 + MIN);
      for (const value of [json.session.created_at, json.session.ends_at, json.session.timeout_at, json.tokens.expire_at, json.tokens.refreshed_at]) {
        assert.match(value, RFC3339);
      }
      assert.equal(Date.parse(json.session.created_at), T0);
      assert.equal(Date.parse(json.session.ends_at), T0 + 10 * HOUR);
      assert.equal(Date.parse(json.tokens.expire_at), T0 + HOUR);
      assert.equal(Date.parse(json.tokens.refreshed_at), T0);
    }
  });

  test('without an inactivity timeout: timeout_in_seconds -1 and the zero time', () => {
    const json = render(makeSession(), noIdle, T0 + MIN);
    assert.equal(json.session.timeout_in_seconds, -1);
    assert.equal(json.session.timeout_at, ZERO_TIME);
    assert.equal(json.session.active, true);
  });

  test('with an inactivity timeout: deadline from the last activity', () => {
    const json = render(makeSession({ lastSeenAt: T0 + 10 * MIN }), idle30m, T0 + 15 * MIN);
    assert.equal(Date.parse(json.session.timeout_at), T0 + 40 * MIN);
    assert.equal(json.session.timeout_in_seconds, 25 * 60);
    assert.equal(json.session.active, true);
  });

  const numbers: { name: string; session: Session; timings: SessionTimings; now: number; want: Record<string, unknown> }[] = [
    {
      name: 'fresh login',
      session: makeSession(),
      timings: noIdle,
      now: T0,
      want: { ends_in_seconds: 36_000, active: true, expire_in_seconds: 3_600, next_auto_refresh_in_seconds: 3_570, refresh_cooldown: true, refresh_cooldown_seconds: 60 },
    },
    {
      name: 'seconds round down',
      session: makeSession(),
      timings: noIdle,
      now: T0 + 1_500,
      want: { ends_in_seconds: 35_998, active: true, expire_in_seconds: 3_598, next_auto_refresh_in_seconds: 3_568, refresh_cooldown: true, refresh_cooldown_seconds: 58 },
    },
    {
      name: 'cooldown over',
      session: makeSession(),
      timings: noIdle,
      now: T0 + 60 * S,
      want: { ends_in_seconds: 35_940, active: true, expire_in_seconds: 3_540, next_auto_refresh_in_seconds: 3_510, refresh_cooldown: false, refresh_cooldown_seconds: 0 },
    },
    {
      name: 'token expired, refresh overdue: never negative',
      session: makeSession(),
      timings: noIdle,
      now: T0 + 2 * HOUR,
      want: { ends_in_seconds: 28_800, active: true, expire_in_seconds: 0, next_auto_refresh_in_seconds: 0, refresh_cooldown: false, refresh_cooldown_seconds: 0 },
    },
    {
      name: 'no refresh token: no auto refresh',
      session: makeSession({}, { refreshToken: undefined }),
      timings: noIdle,
      now: T0,
      want: { ends_in_seconds: 36_000, active: true, expire_in_seconds: 3_600, next_auto_refresh_in_seconds: -1, refresh_cooldown: true, refresh_cooldown_seconds: 60 },
    },
    {
      name: 'short token: cooldown is half its lifetime',
      session: makeSession({}, { expiresAt: T0 + MIN }),
      timings: noIdle,
      now: T0,
      want: { ends_in_seconds: 36_000, active: true, expire_in_seconds: 60, next_auto_refresh_in_seconds: 30, refresh_cooldown: true, refresh_cooldown_seconds: 30 },
    },
    {
      name: 'past the absolute end: inactive, zero left',
      session: makeSession(),
      timings: noIdle,
      now: T0 + 11 * HOUR,
      want: { ends_in_seconds: 0, active: false, expire_in_seconds: 0, next_auto_refresh_in_seconds: 0, refresh_cooldown: false, refresh_cooldown_seconds: 0 },
    },
  ];
  for (const c of numbers) {
    test(`numbers: ${c.name}`, () => {
      const json = render(c.session, c.timings, c.now);
      const got = {
        ends_in_seconds: json.session.ends_in_seconds,
        active: json.session.active,
        expire_in_seconds: json.tokens.expire_in_seconds,
        next_auto_refresh_in_seconds: json.tokens.next_auto_refresh_in_seconds,
        refresh_cooldown: json.tokens.refresh_cooldown,
        refresh_cooldown_seconds: json.tokens.refresh_cooldown_seconds,
      };
      assert.deepEqual(got, c.want);
    });
  }

  test('idle too long: inactive with timeout_in_seconds 0', () => {
    const json = render(makeSession(), idle30m, T0 + 31 * MIN);
    assert.equal(json.session.active, false);
    assert.equal(json.session.timeout_in_seconds, 0);
    assert.equal(Date.parse(json.session.timeout_at), T0 + 30 * MIN);
  });

  test('unknown token expiry: zero time and -1', () => {
    const json = render(makeSession({}, { expiresAt: 0 }), noIdle, T0);
    assert.equal(json.tokens.expire_at, ZERO_TIME);
    assert.equal(json.tokens.expire_in_seconds, -1);
    assert.equal(json.tokens.next_auto_refresh_in_seconds, -1);
  });

  test('user: sub first, then the non-secret claims', () => {
    const json = render(makeSession(), noIdle, T0);
    assert.deepEqual(json.user, { sub: 'alice', name: 'Alice Example', email: 'alice@example.com', preferred_username: 'alice' });
  });

  test('no token, session id or key anywhere in the output', () => {
    for (const [timings, now] of [[noIdle, T0], [idle30m, T0 + 5 * MIN], [noIdle, T0 + 20 * HOUR]] as const) {
      const text = JSON.stringify(sessionJson(makeSession(), timings, now));
      for (const secret of [ACCESS, ID, REFRESH, 'SECRET', 'session-id-1234']) {
        assert.equal(text.includes(secret), false, `${secret} leaked: ${text}`);
      }
      assert.doesNotMatch(text, /access_token|id_token|refresh_token|accessToken|idToken|refreshToken/);
    }
  });

  test('provider: the last field of session, only when the session records one (several providers, SPEC §12)', () => {
    assert.deepEqual(Object.keys(render(makeSession(), noIdle, T0).session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds']);
    const json = render(makeSession({ provider: 'partner' }), noIdle, T0);
    assert.deepEqual(Object.keys(json.session), ['created_at', 'ends_at', 'timeout_at', 'ends_in_seconds', 'active', 'timeout_in_seconds', 'provider']);
    assert.equal(json.session.provider, 'partner');
  });
});
