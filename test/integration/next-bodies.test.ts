// Bodies sent to what Next.js serves (Gatehouse's endpoints and pages), against the production
// build: Next reads and clones a body before any code of ours runs, so without bounds a chunked
// body (no declared length) grows memory and a body that never finishes holds its connection
// forever. Fixed: past 1 MB the connection gets 413 and is closed; a body still arriving after
// UPSTREAM_TIMEOUT gets 408 and is closed. No sleeps: each check waits on the socket's own events.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/next-bodies.test.ts

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from '../harness/stack';
import { rssBytes, servingPid } from './app-process';


interface Outcome { status: number; closedAfterMs: number }

/**
 * Sends `head`, then `chunks` as fast as the socket takes them, never finishing the body; resolves
 * when the server closes the connection (with the status it answered, 0 for none).
 */
function sendUntilClosed(port: number, head: string, chunk: Buffer, maxChunks: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${timeoutMs} ms; answer so far ${JSON.stringify(answer.slice(0, 120))}`));
    }, timeoutMs);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server closed: expected
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), closedAfterMs: performance.now() - t0 });
    });
    socket.on('connect', async () => {
      socket.write(head);
      for (let i = 0; i < maxChunks && !socket.destroyed; i++) {
        if (!socket.write(chunk)) await new Promise((r) => (socket.once('drain', r), socket.once('close', r)));
      }
    });
  });
}

const CHUNK = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 'a'), Buffer.from('\r\n')]);
const chunkedHead = (path: string, host: string) => `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n`;

describe('bodies sent to Next-served paths are bounded in size and time', { timeout: 120_000 }, () => {
  let stack: Stack;
  let host: string;
  before(async () => {
    stack = await startStack({ env: { AUTO_LOGIN: 'true', UPSTREAM_TIMEOUT: '2s' } });
    host = new URL(stack.appUrl).host;
  }, { timeout: 60_000 });
  after(() => stack?.close());

  for (const path of ['/', '/anything', '/oauth2/logout/backchannel', '/oauth2/session/refresh']) {
    test(`an endless chunked body to ${path} is cut after about 1 MB`, async () => {
      // 160 chunks of 64 KB = 10 MB offered; the server must close long before taking them all.
      const outcome = await sendUntilClosed(stack.port, chunkedHead(path, host), CHUNK, 160, 20_000);
      assert.ok([0, 400, 401, 413].includes(outcome.status), `status ${outcome.status}`);
    });
  }

  test('forty endless chunked bodies at once cost bounded memory', async () => {
    const pid = servingPid(stack.app);
    const before = rssBytes(pid);
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => sendUntilClosed(stack.port, chunkedHead('/', host), CHUNK, 160, 30_000)));
    const grown = rssBytes(pid) - before;
    assert.equal(outcomes.length, 40);
    // Before the bound, each connection had Next buffer up to 10 MB twice: hundreds of MB.
    assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1024 / 1024)} MB`);
  });

  for (const [path, headers] of [
    ['/oauth2/logout/backchannel', 'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000'],
    ['/anything', 'Accept: application/json\r\nContent-Length: 1000'],
  ] as const) {
    test(`a body to ${path} that stops arriving is answered and closed after UPSTREAM_TIMEOUT`, async () => {
      const outcome = await sendUntilClosed(stack.port, `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}\r\n\r\nlogout_token=`, Buffer.alloc(0), 0, 15_000);
      assert.ok([401, 408].includes(outcome.status), `status ${outcome.status}`);
    });
  }

  test('the app answers ordinary requests afterwards and logged no unhandled error', async () => {
    const ping = await fetch(`${stack.appUrl}/oauth2/ping`);
    assert.equal((await ping.text()).trim(), 'pong');
    assert.deepEqual(stack.app.logs.filter((l) => /unhandled|uncaught/i.test(l)), []);
  });
});
