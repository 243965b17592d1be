import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoginRateLimiter, loginRateLimiter } from './rate-limit';

const T0 = 1_750_000_000_000;

describe('LoginRateLimiter', () => {
  test('five login starts within 5 s are allowed, the sixth is refused', () => {
    const limiter = new LoginRateLimiter();
    const results = [0, 100, 200, 300, 400, 500].map((dt) => limiter.allow('s1', T0 + dt));
    assert.deepEqual(results, [true, true, true, true, true, false]);
  });

  test('six at the same instant: the sixth is refused', () => {
    const limiter = new LoginRateLimiter();
    const results = Array.from({ length: 6 }, () => limiter.allow('s1', T0));
    assert.deepEqual(results, [true, true, true, true, true, false]);
  });

  test('starts spread wider than the window are never refused', () => {
    const limiter = new LoginRateLimiter();
    for (let i = 0; i < 50; i++) assert.equal(limiter.allow('s1', T0 + i * 1_001), true, `start ${i}`);
  });

  test('allowed again once the burst has left the window', () => {
    const limiter = new LoginRateLimiter();
    for (let i = 0; i < 5; i++) limiter.allow('s1', T0 + i);
    assert.equal(limiter.allow('s1', T0 + 10), false);
    assert.equal(limiter.allow('s1', T0 + 4_000), false, 'still inside the window');
    assert.equal(limiter.allow('s1', T0 + 9_100), true, 'the burst is more than 5 s old');
  });

  test('the window slides: a start exactly 5 s after another no longer counts it', () => {
    const limiter = new LoginRateLimiter();
    for (let i = 0; i < 5; i++) assert.equal(limiter.allow('s1', T0 + i * 1_000), true);
    assert.equal(limiter.allow('s1', T0 + 4_999), false);
    const limiter2 = new LoginRateLimiter();
    for (let i = 0; i < 5; i++) limiter2.allow('s1', T0 + i * 1_000);
    assert.equal(limiter2.allow('s1', T0 + 5_000), true);
  });

  test('sessions are counted separately', () => {
    const limiter = new LoginRateLimiter();
    for (let i = 0; i < 6; i++) limiter.allow('busy', T0 + i);
    assert.equal(limiter.allow('busy', T0 + 10), false);
    assert.equal(limiter.allow('quiet', T0 + 10), true);
  });

  test('the process-wide limiter is one instance', async () => {
    const again = await import('./rate-limit');
    assert.ok(loginRateLimiter instanceof LoginRateLimiter);
    assert.equal(again.loginRateLimiter, loginRateLimiter);
  });
});
