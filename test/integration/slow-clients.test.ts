// Slow clients cannot starve everyone (issue 7 item 8), against the production build: with the
// pool toward an upstream full (UPSTREAM_MAX_CONNECTIONS=2, both connections held by uploads that
// drip a few bytes at a time), a request waiting for a connection gets 504 after UPSTREAM_TIMEOUT
// and never reaches the upstream later, while the uploads themselves go through untouched and
// /oauth2/ping keeps answering. Node's keep-alive agent queues such a request silently, and the
// socket timeout starts only once a socket is assigned (PITFALLS), so without a bound of its own it
// waits for an upload to end.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test --test-concurrency=1 test/integration/slow-clients.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { FETCH, NAV, build, get, raw } from './raw-http';

/** The drip: 8 bytes every 300 ms, 27 times (about 8 s), keeping its pooled connection busy
 *  (and active, so the upstream idle timeout never fires on it). A load pattern, not a clock. */
const DRIP = { bytes: 8, everyMs: 300, times: 27 };
const TOTAL = DRIP.bytes * DRIP.times;

interface Upload {
  /** True once the whole response has arrived. */
  done: boolean;
  result: Promise<{ status: number; text: string }>;
}

function slowUpload(port: number, host: string, path: string): Upload {
  const upload: Upload = { done: false, result: Promise.resolve({ status: 0, text: '' }) };
  upload.result = new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    let sent = 0;
    let drip: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => socket.destroy(new Error(`upload ${path}: no answer within 30 s`)), 30_000);
    const send = () => {
      if (sent === DRIP.times) return clearInterval(drip);
      sent += 1;
      socket.write(Buffer.alloc(DRIP.bytes, 0x61 + (sent % 26)));
    };
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\nSec-Fetch-Mode: cors\r\nContent-Type: application/octet-stream\r\nContent-Length: ${TOTAL}\r\nConnection: close\r\n\r\n`);
      send();
      drip = setInterval(send, DRIP.everyMs);
    });
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', (e) => {
      clearInterval(drip);
      clearTimeout(guard);
      reject(e);
    });
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(guard);
      upload.done = true;
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
  return upload;
}

describe('slow clients and a full upstream pool', { timeout: 120_000 }, () => {
  let stack: Stack;
  let host: string;
  before(async () => {
    stack = await startStack({ env: { AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/api/public/**', UPSTREAM_MAX_CONNECTIONS: '2', UPSTREAM_TIMEOUT: '2s' } });
    host = new URL(stack.appUrl).host;
  }, { timeout: 90_000 });
  after(() => stack?.close());

  test('a request waiting for a pooled connection gets 504 while slow uploads hold the pool, and never reaches the upstream', async () => {
    const uploads = [slowUpload(stack.port, host, '/api/public/upload/1'), slowUpload(stack.port, host, '/api/public/upload/2')];
    const running = () => uploads.every((u) => !u.done);
    // Both uploads hold a pooled connection once the upstream has their headers.
    await eventually('both uploads to reach the upstream', 5_000, () => ['/public/upload/1', '/public/upload/2'].every((url) => stack.upstream.arrived.some((r) => r.url === url)));

    const [fetched, navigated] = await Promise.all([
      raw(stack.port, build(get('/api/public/waiting?as=fetch', FETCH), host), false, 15_000),
      raw(stack.port, build(get('/api/public/waiting?as=navigation', NAV), host), false, 15_000),
    ]);
    assert.ok(running(), 'the waiting requests were answered while both uploads were still running');
    assert.equal(fetched.status, 504, `fetch: ${fetched.status} ${fetched.body.toString().slice(0, 200)}`);
    assert.match(String(fetched.header('content-type')), /application\/json/);
    assert.equal(JSON.parse(fetched.body.toString()).error, 'upstream_timeout');
    assert.equal(navigated.status, 504, `navigation: ${navigated.status}`);
    assert.match(String(navigated.header('content-type')), /text\/html/);

    const ping = await raw(stack.port, build(get('/oauth2/ping'), host));
    assert.equal(ping.body.toString().trim(), 'pong');
    assert.ok(running(), '/oauth2/ping answered while both uploads were still running');

    // The uploads themselves are not harmed: each arrives whole.
    for (const [i, u] of uploads.entries()) {
      const res = await u.result;
      assert.equal(res.status, 200, `upload ${i + 1}: ${res.text.slice(0, 300)}`);
      assert.equal(stack.upstream.last(`/public/upload/${i + 1}`)?.body.length, TOTAL, `upload ${i + 1} arrived whole`);
    }
    // Once the pool is free again, a request still queued in it would be sent first: an ordinary
    // request recorded after it proves the waiting ones were dropped, not delayed.
    const next = await raw(stack.port, build(get('/api/public/after'), host));
    assert.equal(next.status, 200);
    await eventually('the ordinary request to reach the upstream', 5_000, () => stack.upstream.arrived.some((r) => r.url === '/public/after'));
    assert.deepEqual(stack.upstream.arrived.filter((r) => r.url.startsWith('/public/waiting')).map((r) => r.url), [], 'a request answered 504 reached the upstream anyway');
  });

  test('the app logged no unhandled error (the 504s are logged as what they are)', () => {
    const expected = (l: string) => /"msg":"request failed"/.test(l) && /"error_code":"upstream_timeout"/.test(l);
    assert.deepEqual(stack.app.logs.filter((l) => /unhandled|uncaught|"level":"error"/i.test(l) && !expected(l)), []);
  });
});
