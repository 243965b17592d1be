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

  test('only the exact form opens: nothing appended after the version, no second ~', async () => {
    const sealed = await seal('session', { v: 1 }, [A], 60);
    assert.ok(sealed.endsWith('~2'));
    assert.deepEqual(await unseal('session', sealed, [A], 60), { v: 1 });
    for (const variant of [`${sealed}x`, `${sealed}~2`, `${sealed}*x`, `${sealed}~`, sealed.slice(0, -2), `${sealed.slice(0, -2)}~3`, `~${sealed}`]) {
      assert.equal(await unseal('session', variant, [A], 60), null, variant.slice(-12));
    }
  });
});
