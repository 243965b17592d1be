// The request-framing table (issue 7 item 1): every method × every way of framing a body, each
// body itself a complete HTTP request. framing.test.ts runs it toward a plain upstream (public and
// logged-in protected paths), sso-proxy-framing.test.ts toward the SSO server of a proxy.
//
// Rule under test: every byte a client sends reaches an upstream only as the body of the one request
// Gatehouse forwarded, with explicit framing; ambiguous framing gets 400. Node's own HTTP client
// sends GET, HEAD, DELETE and OPTIONS bodies unframed when no framing header is set (PITFALLS, "Node's
// HTTP client as a proxy"), so a body that is an HTTP request becomes a second request upstream.

import { Buffer } from 'node:buffer';
import type { Hdrs } from './raw-http';

export const METHODS = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH'] as const;
export type Method = (typeof METHODS)[number];

/** The path a smuggled request asks for; no upstream request for it may ever be recorded. */
export const SMUGGLED_PATH = '/internal/admin';
/** The client's body: a complete request with a forged credential, as an attacker sends it. */
export const SMUGGLED = Buffer.from(`GET ${SMUGGLED_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer forged\r\n\r\n`, 'latin1');

/** `body` in chunked coding, cut in two chunks (hex sizes, lowercase) so a relay must really decode. */
export function chunked(body: Buffer): Buffer {
  const cut = Math.floor(body.length / 2);
  const parts = [body.subarray(0, cut), body.subarray(cut)].filter((p) => p.length > 0);
  return Buffer.concat([...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
}

/**
 * 'forward': exactly one upstream request, same method and path, explicit framing, the exact body.
 * 'refuse': 400, nothing reaches the upstream.
 * 'refuse-or-forward': either of the two (a variant Node's parser may read one way or the other,
 * where both answers are safe); never a smuggled request, never a body that differs.
 */
export type Outcome = 'forward' | 'refuse' | 'refuse-or-forward';

export interface Framing {
  name: string;
  /** The framing header lines (Host, Connection: close and the rest are added around them). */
  headers: (body: Buffer) => Hdrs;
  /** The body bytes as they go on the wire. */
  wire: (body: Buffer) => Buffer;
  outcome: Outcome;
}

const cl = (body: Buffer): [string, string] => ['Content-Length', String(body.length)];
const te = (value: string): [string, string] => ['Transfer-Encoding', value];
const raw = (body: Buffer) => body;

export const FRAMINGS: Framing[] = [
  // Plain framings: forwarded as one request with the body intact.
  { name: 'Transfer-Encoding: chunked', headers: () => [te('chunked')], wire: chunked, outcome: 'forward' },
  { name: 'Transfer-Encoding: Chunked (case)', headers: () => [['transfer-encoding', 'Chunked']], wire: chunked, outcome: 'forward' },
  { name: 'Content-Length', headers: (b) => [cl(b)], wire: raw, outcome: 'forward' },
  // Connection naming a framing header must not make Gatehouse drop that header.
  { name: 'Content-Length + Connection: content-length', headers: (b) => [cl(b), ['Connection', 'content-length']], wire: raw, outcome: 'forward' },
  { name: 'Content-Length + Connection: keep-alive, Content-Length', headers: (b) => [cl(b), ['Connection', 'keep-alive, Content-Length']], wire: raw, outcome: 'forward' },
  { name: 'content-length + cOnNeCtIoN: CONTENT-LENGTH (odd casing)', headers: (b) => [['content-length', String(b.length)], ['cOnNeCtIoN', 'CONTENT-LENGTH']], wire: raw, outcome: 'forward' },
  { name: 'Content-Length + Connection: close, content-length', headers: (b) => [cl(b), ['Connection', 'close, content-length']], wire: raw, outcome: 'forward' },
  { name: 'chunked + Connection: transfer-encoding', headers: () => [te('chunked'), ['Connection', 'transfer-encoding']], wire: chunked, outcome: 'forward' },
  { name: 'chunked + Connection: Keep-Alive, Transfer-Encoding', headers: () => [te('chunked'), ['Connection', 'Keep-Alive, Transfer-Encoding']], wire: chunked, outcome: 'forward' },
  { name: 'chunked + CONNECTION: TRANSFER-ENCODING, close (odd casing)', headers: () => [['TRANSFER-ENCODING', 'chunked'], ['CONNECTION', 'TRANSFER-ENCODING, close']], wire: chunked, outcome: 'forward' },
  // Both framings at once: ambiguous, 400 (RFC 9112 §6.3 lets a server reject it; a proxy must).
  { name: 'Transfer-Encoding: chunked + Content-Length of the wire bytes', headers: (b) => [te('chunked'), ['Content-Length', String(chunked(b).length)]], wire: chunked, outcome: 'refuse' },
  { name: 'Content-Length: 0 + Transfer-Encoding: chunked (CL.TE)', headers: () => [['Content-Length', '0'], te('chunked')], wire: chunked, outcome: 'refuse' },
  { name: 'chunked + Content-Length, both named in Connection', headers: (b) => [te('chunked'), cl(b), ['Connection', 'content-length, transfer-encoding']], wire: chunked, outcome: 'refuse' },
  // Transfer-Encoding other than plain chunked: 400, or (if Node reads it as chunked) one exact forward.
  { name: 'Transfer-Encoding: chunked, identity', headers: () => [te('chunked, identity')], wire: chunked, outcome: 'refuse-or-forward' },
  { name: 'Transfer-Encoding: gzip, chunked', headers: () => [te('gzip, chunked')], wire: chunked, outcome: 'refuse-or-forward' },
  { name: 'Transfer-Encoding: identity', headers: () => [te('identity')], wire: raw, outcome: 'refuse-or-forward' },
  { name: 'Transfer-Encoding: chunked, chunked', headers: () => [te('chunked, chunked')], wire: chunked, outcome: 'refuse-or-forward' },
  { name: 'two Transfer-Encoding lines (chunked, chunked)', headers: () => [te('chunked'), te('chunked')], wire: chunked, outcome: 'refuse-or-forward' },
  { name: 'two Transfer-Encoding lines (gzip, chunked)', headers: () => [te('gzip'), te('chunked')], wire: chunked, outcome: 'refuse-or-forward' },
  { name: 'Transfer-Encoding: xchunked', headers: () => [te('xchunked')], wire: chunked, outcome: 'refuse-or-forward' },
  // Content-Length repeated: 400, or one exact forward if Node folds identical values.
  { name: 'two identical Content-Length lines', headers: (b) => [cl(b), cl(b)], wire: raw, outcome: 'refuse-or-forward' },
  { name: 'Content-Length: N, N (one line)', headers: (b) => [['Content-Length', `${b.length}, ${b.length}`]], wire: raw, outcome: 'refuse-or-forward' },
];

export interface FramingRow {
  name: string;
  method: Method;
  framing: Framing;
}

/** The method × framing product, one named row each. */
export const ROWS: FramingRow[] = METHODS.flatMap((method) => FRAMINGS.map((framing) => ({ name: `${method} with ${framing.name}`, method, framing })));
