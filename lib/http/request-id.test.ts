import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlationId } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('correlationId: keeps a well-formed incoming id', () => {
  for (const id of ['abc', 'x', '0f8fad5b-d9cb-469f-a165-70867728950e', 'req:42/a_b.c~!', '!'.repeat(200), '<b>&"%']) {
    assert.equal(correlationId(id), id);
  }
});

test('correlationId: replaces a missing or malformed id with a new UUID', () => {
  for (const id of [null, undefined, '', 'a'.repeat(201), 'has space', ' lead', 'trail ', 'tab\there', 'cr\rlf\n', 'nul\u0000', 'del\u007F', 'ünïcode', 'emoji😀']) {
    const result = correlationId(id);
    assert.match(result, UUID, JSON.stringify(id));
    assert.notEqual(result, id);
  }
});

test('correlationId: new ids differ', () => {
  assert.notEqual(correlationId(null), correlationId(null));
});
