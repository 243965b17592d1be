import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seal, unseal } from './seal';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const C = 'c'.repeat(32);

describe('seal', () => {
  test('round trip', async () => {
    const sealed = await seal('session', { x: 1 }, [A], 60);
    assert.deepEqual(await unseal('session', sealed, [A], 60), { x: 1 });
  });

  test('a value sealed for one purpose does not open as another', async () => {
    const sealed = await seal('login', { state: 's' }, [A], 60);
    assert.equal(await unseal('session', sealed, [A], 60), null);
  });

  test('rotation: the first secret seals, every listed secret unseals', async () => {
    const old = await seal('session', { v: 'old' }, [A], 60);
    assert.deepEqual(await unseal('session', old, [B, A], 60), { v: 'old' });
    const fresh = await seal('session', { v: 'new' }, [B, A], 60);
    assert.equal(await unseal('session', fresh, [A], 60), null, 'sealed with the first secret, not the old one');
    assert.deepEqual(await unseal('session', fresh, [B], 60), { v: 'new' });
  });

  test('a secret removed from the list leaves its values unreadable, not an error', async () => {
    const old = await seal('session', { v: 1 }, [A], 60);
    assert.equal(await unseal('session', old, [C, B], 60), null);
  });

  test('tampered, truncated, empty and oversized input is null', async () => {
    const sealed = await seal('session', { v: 1 }, [A], 60);
    const flipped = sealed.slice(0, 40) + (sealed[40] === 'x' ? 'y' : 'x') + sealed.slice(41);
    for (const input of [flipped, sealed.slice(0, -5), '', 'Fe26.2**garbage', 'x'.repeat(70_000), '~2']) {
      assert.equal(await unseal('session', input, [A], 60), null, JSON.stringify(input.slice(0, 30)));
    }
  });

  test('after a seal was opened (and kept), a copy changed anywhere but its last field is still null', async () => {
    const sealed = await seal('session', { v: 1 }, [A], 60);
    assert.deepEqual(await unseal('session', sealed, [A], 60), { v: 1 });
    const tail = sealed.lastIndexOf('*');
    for (const at of [10, Math.floor(tail / 2), tail - 1]) {
      const forged = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
      assert.equal(await unseal('session', forged, [A], 60), null, `changed at ${at} of ${sealed.length}`);
    }
    assert.equal(await unseal('session', `x${sealed.slice(1)}`, [A], 60), null);
    assert.deepEqual(await unseal('session', sealed, [A], 60), { v: 1 }, 'the original still opens');
  });

  test('per-session keys (a new list each call): a kept seal opens under its own key only, and still after many other keys', async () => {
    const own = 'k'.repeat(43);
    const sealed = await seal('stored-session', { v: 1 }, [own], 60);
    assert.deepEqual(await unseal('stored-session', sealed, [own.slice()], 60), { v: 1 });
    assert.equal(await unseal('stored-session', sealed, ['j'.repeat(43)], 60), null, 'another session\'s key');
    assert.equal(await unseal('stored-session', sealed, [`${own}\u0000`], 60), null, 'a longer key');
    for (let i = 0; i < 5_100; i++) await seal('stored-session', i, [`key-${i}`.padEnd(32, '.')], 60);
    assert.deepEqual(await unseal('stored-session', sealed, [own], 60), { v: 1 }, 'evicted entries are made again');
    assert.deepEqual(await unseal('stored-session', sealed, ['j'.repeat(43), own], 60), { v: 1 }, 'in a list, as in a rotation');
  });

  test('secret lists that would join to the same string stay apart', async () => {
    const pair = [A, B];
    const joined = [`${A}\u0000${B}`];
    const sealedByB = await seal('session', { v: 'b' }, [B], 60);
    assert.deepEqual(await unseal('session', sealedByB, pair, 60), { v: 'b' });
    assert.equal(await unseal('session', sealedByB, joined, 60), null, 'the one joined secret is not the pair');
    const sealedByJoined = await seal('session', { v: 'j' }, joined, 60);
    assert.equal(await unseal('session', sealedByJoined, [A], 60), null);
    assert.deepEqual(await unseal('session', await seal('session', { v: 'a' }, pair, 60), [A], 60), { v: 'a' }, 'the pair seals with its first secret');
    const sealedByC = await seal('session', { v: 'c' }, [C, ''], 60);
    assert.deepEqual(await unseal('session', sealedByC, [`${C}\u0000`], 60), null);
    assert.deepEqual(await unseal('session', sealedByC, [C, ''], 60), { v: 'c' });
  });

  test('no secrets: nothing opens, and nothing throws', async () => {
    assert.equal(await unseal('session', await seal('session', 1, [A], 60), [], 60), null);
  });

  test('only the exact form opens: nothing appended after the version, no second ~', async () => {
    const sealed = await seal('session', { v: 1 }, [A], 60);
    assert.ok(sealed.endsWith('~2'));
    assert.deepEqual(await unseal('session', sealed, [A], 60), { v: 1 });
    for (const variant of [`${sealed}x`, `${sealed}~2`, `${sealed}*x`, `${sealed}~`, sealed.slice(0, -2), `${sealed.slice(0, -2)}~3`, `~${sealed}`]) {
      assert.equal(await unseal('session', variant, [A], 60), null, variant.slice(-12));
    }
  });
});
