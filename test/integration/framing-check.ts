// One row of the framing table (framing-cases.ts) against a running Gatehouse and the recording
// upstream behind it: the attack over a raw socket, then one ordinary request through the same
// Gatehouse, then what the upstream recorded. The ordinary request comes second on purpose: the
// keep-alive agent hands it the socket the attack just used, so leftover bytes on that socket would
// be parsed before it (a smuggled request is recorded first) or would answer it (a desynchronised
// pool: its answer is not its own).

import assert from 'node:assert/strict';
import type { RecordedRequest, Upstream } from '../../dev/upstream';
import { eventually } from '../harness/wait';
import { SMUGGLED, SMUGGLED_PATH, type FramingRow } from './framing-cases';
import { build, get, raw, type Hdrs, type RawResponse } from './raw-http';

export interface FramingTarget {
  port: number;
  /** Host header value for the app. */
  host: string;
  upstream: Upstream;
  /** Header lines every request of this target carries (Accept, Sec-Fetch-*, a session cookie...). */
  headers: Hdrs;
  /** Request target through Gatehouse (ends with a query `?n=<id>` or none) and the URL the
   *  upstream records for it. */
  attack(id: string): { target: string; upstreamUrl: string };
  /** An ordinary GET through Gatehouse (its query must carry `after=<id>`) and its upstream URL. */
  followUp(id: string): { target: string; upstreamUrl: string };
  /** More checks on the one forwarded request (its Authorization, for example). */
  checkForwarded?(r: RecordedRequest): void;
}

const describeAll = (received: RecordedRequest[]) => received.map((r) => `${r.method} ${r.url}`).join(', ') || 'nothing';

/** Exactly one forwarded request: same method, explicit framing, the client's body byte for byte. */
function assertForwarded(res: RawResponse, r: RecordedRequest | undefined, row: FramingRow, t: FramingTarget) {
  assert.equal(res.status, 200, `the upstream's answer, got ${res.status}\n${res.lines.join('\n')}`);
  assert.ok(r, 'the request reached the upstream');
  assert.equal(r.method, row.method);
  const length = r.headers['content-length'];
  const coding = r.headers['transfer-encoding'];
  const framed = (length === String(SMUGGLED.length) && coding === undefined) || (coding?.toLowerCase() === 'chunked' && length === undefined);
  assert.ok(framed, `explicit framing expected (Content-Length: ${SMUGGLED.length} or Transfer-Encoding: chunked), got content-length=${length} transfer-encoding=${coding}`);
  assert.equal(r.body.toString('latin1'), SMUGGLED.toString('latin1'), 'the body arrives exactly as the client sent it');
  t.checkForwarded?.(r);
}

export async function runFramingRow(row: FramingRow, t: FramingTarget, id: string): Promise<void> {
  const before = t.upstream.requests.length;
  const errorsBefore = t.upstream.clientErrors.length;
  const { target, upstreamUrl } = t.attack(id);
  const spec = { method: row.method, target, headers: [...t.headers, ...row.framing.headers(SMUGGLED)], body: row.framing.wire(SMUGGLED) };
  const res = await raw(t.port, build(spec, t.host), row.method === 'HEAD');

  const follow = t.followUp(id);
  const next = await raw(t.port, build(get(follow.target, t.headers), t.host));
  assert.equal(next.status, 200, `the ordinary request after the attack: ${next.status}\n${next.body.toString().slice(0, 300)}`);
  const echoed = JSON.parse(next.body.toString('utf8')) as { query?: Record<string, string> };
  assert.equal(echoed.query?.after, id, `the ordinary request got another request's answer (desynchronised connection): ${next.body.toString().slice(0, 300)}`);
  await eventually(`the upstream to record ${follow.upstreamUrl}`, 5_000, () => t.upstream.requests.slice(before).some((r) => r.url === follow.upstreamUrl));

  const received = t.upstream.requests.slice(before);
  assert.deepEqual(received.filter((r) => r.url.startsWith(SMUGGLED_PATH)).map((r) => r.url), [], `a smuggled request reached the upstream (it saw: ${describeAll(received)})`);
  assert.ok(!received.some((r) => r.rawHeaders.includes('Bearer forged')), 'the forged Authorization reached the upstream');
  assert.deepEqual(t.upstream.clientErrors.slice(errorsBefore).map((e) => `${e.code} ${JSON.stringify(e.rawPacket ?? '')}`), [], 'the upstream could not parse what it got');

  const refused = row.framing.outcome === 'refuse' || (row.framing.outcome === 'refuse-or-forward' && res.status === 400);
  if (refused) {
    assert.equal(res.status, 400, `ambiguous framing must be refused, got ${res.status}\n${res.lines.join('\n')}`);
    assert.deepEqual(received.map((r) => r.url), [follow.upstreamUrl], `the upstream must not be reached (it saw: ${describeAll(received)})`);
    return;
  }
  assert.deepEqual(received.map((r) => r.url), [upstreamUrl, follow.upstreamUrl], `exactly the attack's request, then the ordinary one (it saw: ${describeAll(received)})`);
  assertForwarded(res, received[0], row, t);
}
