import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { requestFraming, type Framing } from './framing';

const cases: { name: string; headers: IncomingHttpHeaders; want: Framing['kind'] }[] = [
  { name: 'nothing: no body', headers: {}, want: 'none' },
  { name: 'Content-Length', headers: { 'content-length': '10' }, want: 'length' },
  { name: 'Content-Length 0', headers: { 'content-length': '0' }, want: 'length' },
  { name: 'chunked', headers: { 'transfer-encoding': 'chunked' }, want: 'chunked' },
  { name: 'chunked, other case and spaces', headers: { 'transfer-encoding': ' CHUNKED ' }, want: 'chunked' },
  { name: 'both', headers: { 'transfer-encoding': 'chunked', 'content-length': '10' }, want: 'ambiguous' },
  { name: 'a coding list', headers: { 'transfer-encoding': 'gzip, chunked' }, want: 'ambiguous' },
  { name: 'chunked then identity', headers: { 'transfer-encoding': 'chunked, identity' }, want: 'ambiguous' },
  { name: 'two header lines (Node joins them)', headers: { 'transfer-encoding': 'chunked, chunked' }, want: 'ambiguous' },
  { name: 'identity', headers: { 'transfer-encoding': 'identity' }, want: 'ambiguous' },
  { name: 'empty Transfer-Encoding', headers: { 'transfer-encoding': '' }, want: 'ambiguous' },
  { name: 'malformed length', headers: { 'content-length': '1e3' }, want: 'ambiguous' },
  { name: 'negative length', headers: { 'content-length': '-1' }, want: 'ambiguous' },
];
for (const c of cases) {
  test(`requestFraming: ${c.name}`, () => {
    assert.equal(requestFraming(c.headers).kind, c.want);
  });
}

test('requestFraming: the length is read as a number', () => {
  assert.deepEqual(requestFraming({ 'content-length': '0042' }), { kind: 'length', length: 42 });
});
