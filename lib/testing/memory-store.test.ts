/**
 * The in-memory store keeps the same contract as the real stores (lib/testing/store-contract.ts),
 * and the Redis store's specifics the unit tests above it rely on: data keys, TTLs, the lock, the
 * replay memory, and the "down" and "hang" switches.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOCK_TTL_MS } from '../session/redis-store';
import { isStoreUnavailable } from '../session/store';
import { MemorySessionStore } from './memory-store';
import { conditionalUpdateContract, newSession, storeContract } from './store-contract';
import { eventually } from '../../test/harness/wait';

const HOUR = 3_600_000;
const timings: { inactivityTimeoutMs: number | null; refreshBeforeMs: number; maxLifetimeMs: number } = { inactivityTimeoutMs: null, refreshBeforeMs: 30_000, maxLifetimeMs: 10 * HOUR };

storeContract('memory', async () => new MemorySessionStore(timings));
conditionalUpdateContract('memory', async () => new MemorySessionStore(timings));

function storeAt(start: number, over: Partial<typeof timings> = {}) {
  const clock = { now: start };
  return { clock, store: new MemorySessionStore({ ...timings, ...over }, () => clock.now) };
}

describe('memory store specifics (as the Redis store)', () => {
  test('a ticket with the wrong data key loads nothing', async () => {
    const { store } = storeAt(Date.now());
    const payload = await store.create(newSession());
    assert.equal(payload.t, 'ticket');
    if (payload.t !== 'ticket') return;
    assert.equal(await store.load({ ...payload, key: 'x'.repeat(43) }), null);
  });

  test('the key lapses at the idle deadline, or at the absolute end', async () => {
    const now = Date.now();
    const { clock, store } = storeAt(now, { inactivityTimeoutMs: 60_000 });
    const session = newSession({ lastSeenAt: now, endsAt: now + HOUR });
    const payload = await store.create(session);
    clock.now = now + 59_999;
    assert.ok(await store.load(payload));
    clock.now = now + 60_000;
    assert.equal(await store.load(payload), null);
  });

  test('an update does not recreate an expired key', async () => {
    const { store } = storeAt(Date.now());
    const session = newSession();
    const payload = await store.create(session);
    store.expire(session.id);
    assert.equal(await store.update(session, payload), null);
    assert.equal(store.peek(session.id), null);
  });

  test('the refresh lock: one holder at a time, released only by its owner, lapsing after its TTL', async () => {
    const now = Date.now();
    const { clock, store } = storeAt(now);
    const mine = store.refreshLock('s1');
    const theirs = store.refreshLock('s1');
    assert.equal(await mine.tryAcquire(), true);
    assert.equal(await theirs.tryAcquire(), false);
    await theirs.release(); // not the owner: the lock stays
    assert.equal(await theirs.tryAcquire(), false);
    assert.equal(await store.refreshLock('s2').tryAcquire(), true, 'locks are per session');
    clock.now = now + LOCK_TTL_MS;
    assert.equal(await theirs.tryAcquire(), true, 'a crashed holder\'s lock lapses');
    await mine.release(); // lapsed and taken by another: not mine to delete
    assert.notEqual(store.lockHolder('s1'), null);
    await theirs.release();
    assert.equal(store.lockHolder('s1'), null);
  });

  test('firstUse remembers an id until it lapses', async () => {
    const now = Date.now();
    const { clock, store } = storeAt(now);
    assert.equal(await store.firstUse('jti-1', now + 5_000), 'first');
    assert.equal(await store.firstUse('jti-1', now + 5_000), 'replayed');
    clock.now = now + 5_000;
    assert.equal(await store.firstUse('jti-1', now + 10_000), 'first');
  });

  test('down: every call throws StoreUnavailableError, and the lock release is swallowed', async () => {
    const { store } = storeAt(Date.now());
    const payload = await store.create(newSession());
    const lock = store.refreshLock('s1');
    store.mode = 'down';
    for (const call of [() => store.load(payload), () => store.create(newSession()), () => store.delete(payload), () => lock.tryAcquire(), () => store.ping()]) {
      await assert.rejects(call(), (error) => isStoreUnavailable(error));
    }
    await lock.release();
    store.mode = 'up';
    assert.ok(await store.load(payload), 'nothing was lost while down');
  });

  test('hang: calls wait until resumed, then answer (or fail when resumed down)', async () => {
    const { store } = storeAt(Date.now());
    const payload = await store.create(newSession());
    store.mode = 'hang';
    const loading = store.load(payload);
    let settled = false;
    void loading.finally(() => (settled = true));
    await eventually('the call to be held', 2_000, () => store.pending === 1, { minDelayMs: 1 });
    assert.equal(settled, false);
    store.resume();
    assert.ok(await loading);
    store.mode = 'hang';
    const failing = store.load(payload);
    await eventually('the call to be held', 2_000, () => store.pending === 1, { minDelayMs: 1 });
    store.resume('down');
    await assert.rejects(failing, (error) => isStoreUnavailable(error));
  });

  test('countActive counts live sessions', async () => {
    const { store } = storeAt(Date.now());
    const a = newSession();
    await store.create(a);
    await store.create(newSession());
    store.expire(a.id);
    assert.equal(await store.countActive(), 1);
  });
});
