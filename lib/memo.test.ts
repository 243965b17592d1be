import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedMemo } from './memo';

test('computes each key once, long keys every time, and a full memo starts over', () => {
  const calls: string[] = [];
  const upper = boundedMemo((key) => (calls.push(key), key.toUpperCase()), 2, 5);
  assert.equal(upper('ab'), 'AB');
  assert.equal(upper('ab'), 'AB');
  assert.deepEqual(calls, ['ab']);
  assert.equal(upper('toolong'), 'TOOLONG');
  assert.equal(upper('toolong'), 'TOOLONG');
  assert.deepEqual(calls, ['ab', 'toolong', 'toolong']);
  upper('cd'); // memo full: ab, cd
  upper('ef'); // emptied, then ef
  upper('ab'); // computed again
  assert.deepEqual(calls.slice(3), ['cd', 'ef', 'ab']);
  assert.equal(upper('ef'), 'EF');
  assert.equal(calls.length, 6);
});

test('false and empty values are remembered too', () => {
  let calls = 0;
  const isX = boundedMemo((key) => (calls++, key === 'x'), 10, 10);
  isX('y');
  isX('y');
  assert.equal(calls, 1);
});
