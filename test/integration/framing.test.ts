// Request framing toward upstreams (issue 7 item 1), against the production build: every method ×
// every framing of framing-cases.ts, with a body that is itself an HTTP request, on an auto-login
// ignored path without a session and on a protected path with one. The recording upstream parses
// pipelined requests, so a smuggled body would show up there as a second request.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test --test-concurrency=1 test/integration/framing.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Stack } from '../harness/stack';
import { startGatedStack } from './support';
import { ROWS } from './framing-cases';
import { runFramingRow, type FramingTarget } from './framing-check';
import { FETCH, build, get, raw, withCookie } from './raw-http';
import { eventually } from '../harness/wait';

describe('request framing toward an upstream', { timeout: 240_000 }, () => {
  let stack: Stack;
  let host: string;
  let session: string;
  before(async () => {
    ({ stack, host, session } = await startGatedStack());
  }, { timeout: 90_000 });
  after(() => stack?.close());

  const contexts: Array<{ name: string; target: () => FramingTarget }> = [
    {
      name: 'ignored path, no session',
      target: () => ({
        port: stack.port, host, upstream: stack.upstream, headers: FETCH,
        attack: (id) => ({ target: `/api/public/framing?n=${id}`, upstreamUrl: `/public/framing?n=${id}` }),
        followUp: (id) => ({ target: `/api/public/ordinary?after=${id}`, upstreamUrl: `/public/ordinary?after=${id}` }),
        checkForwarded: (r) => assert.equal(r.headers.authorization, undefined, 'no Authorization without a session'),
      }),
    },
    {
      name: 'protected path, logged in',
      target: () => ({
        port: stack.port, host, upstream: stack.upstream, headers: withCookie(session),
        attack: (id) => ({ target: `/api/private/framing?n=${id}`, upstreamUrl: `/private/framing?n=${id}` }),
        followUp: (id) => ({ target: `/api/private/ordinary?after=${id}`, upstreamUrl: `/private/ordinary?after=${id}` }),
        checkForwarded: (r) => {
          assert.match(String(r.headers.authorization), /^Bearer (?!forged)\S+$/, 'the session\'s Bearer token');
          assert.doesNotMatch(String(r.headers.cookie ?? ''), /gatehouse\./, 'no Gatehouse cookie upstream');
        },
      }),
    },
  ];

  let n = 0;
  for (const context of contexts) {
    for (const row of ROWS) {
      test(`${context.name}: ${row.name}`, () => runFramingRow(row, context.target(), `${++n}`));
    }
  }

  test('a complete request followed by bytes that do not parse: Node answers 400 and closes, and the request is never forwarded', async () => {
    const before = stack.upstream.requests.length;
    const request = build(get('/api/private/before-garbage?n=1', withCookie(session)), host);
    const res = await raw(stack.port, Buffer.concat([request, Buffer.from('GARBAGE\r\n\r\n')]));
    assert.equal(res.status, 400);
    // Barrier: a request through the same gate after it reaches the upstream.
    assert.equal((await raw(stack.port, build(get('/api/private/after-garbage?n=1', withCookie(session)), host))).status, 200);
    await eventually('the barrier request to reach the upstream', 5_000, () => stack.upstream.requests.slice(before).some((r) => r.url === '/private/after-garbage?n=1'));
    assert.deepEqual(stack.upstream.requests.slice(before).map((r) => r.url), ['/private/after-garbage?n=1'], 'nobody would get its answer: not forwarded');
  });

  test('the app survived the whole table and logged no unhandled error', async () => {
    const ping = await raw(stack.port, build(get('/oauth2/ping'), host));
    assert.equal(ping.body.toString().trim(), 'pong');
    assert.deepEqual(stack.app.logs.filter((l) => /unhandled|uncaught|Internal Server Error|"level":"error"/i.test(l)), []);
  });
});
