// Self-test of the recording demo upstream the integration tests forward to (echo, status,
// set-cookie, slow, hang, server-sent events, WebSocket), and of the harness Browser's headers.
//
//   node --import tsx --test test/harness/dev-upstream.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { Browser } from './http';

describe('demo upstream', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream?.close();
  });

  test('echoes and records what it received', async () => {
    const res = await fetch(`${upstream.url}/users/1?x=2`, {
      method: 'POST',
      headers: { authorization: 'Bearer abc', 'content-type': 'text/plain' },
      body: 'hello',
    });
    const echo = (await res.json()) as { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/users/1');
    assert.deepEqual(echo.query, { x: '2' });
    assert.equal(echo.headers.authorization, 'Bearer abc');
    assert.equal(echo.body, 'hello');
    const rec = upstream.last('/users/1')!;
    assert.equal(rec.url, '/users/1?x=2');
    assert.equal(rec.body.toString(), 'hello');
    assert.ok(rec.rawHeaders.includes('Bearer abc'));
  });

  test('Browser sends navigation headers verbatim (global fetch would force sec-fetch-mode: cors)', async () => {
    const page = await new Browser().follow(`${upstream.url}/nav`);
    assert.equal(page.status, 200);
    const rec = upstream.last('/nav')!;
    assert.equal(rec.headers['sec-fetch-mode'], 'navigate');
    assert.equal(rec.headers['sec-fetch-dest'], 'document');
    assert.match(String(rec.headers.accept), /text\/html/);
  });

  test('status, set-cookie, slow, echo-body', async () => {
    assert.equal((await fetch(`${upstream.url}/status/418`)).status, 418);
    assert.equal((await fetch(`${upstream.url}/status/204`)).status, 204);
    const sc = await fetch(`${upstream.url}/set-cookie`);
    assert.deepEqual(sc.headers.getSetCookie(), ['upstream=1; Path=/']);
    const t0 = Date.now();
    assert.equal((await fetch(`${upstream.url}/slow?ms=150`)).status, 200);
    assert.ok(Date.now() - t0 >= 140);
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const eb = await fetch(`${upstream.url}/echo-body`, { method: 'POST', body: big });
    assert.equal(eb.headers.get('x-received-bytes'), String(big.length));
    assert.deepEqual(await eb.json(), { bytes: big.length });
  });

  test('/respond answers the status and exactly the header lines asked for, repeats kept', async () => {
    const q = new URLSearchParams([['status', '302'], ['header', 'Location: http://x.example/a'], ['header', 'Cache-Control:public'], ['header', 'Cache-Control:max-age=60'], ['header', 'Set-Cookie:a=1'], ['header', 'Set-Cookie:b=2']]);
    for (const path of ['/respond', '/base/respond']) {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${upstream.url}${path}?${q}`, resolve).on('error', reject));
      res.resume();
      assert.equal(res.statusCode, 302);
      const lines = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n, i) => `${n}:${res.rawHeaders[2 * i + 1]}`);
      for (const line of ['Location:http://x.example/a', 'Cache-Control:public', 'Cache-Control:max-age=60', 'Set-Cookie:a=1', 'Set-Cookie:b=2']) assert.ok(lines.includes(line), `${path}: ${line} in ${lines.join(' | ')}`);
    }
  });

  test('/hang never answers (until the client gives up)', async () => {
    await assert.rejects(fetch(`${upstream.url}/hang`, { signal: AbortSignal.timeout(200) }), /abort|timeout/i);
  });

  test('/sse streams 3 events ~100 ms apart', async () => {
    const res = await fetch(`${upstream.url}/sse`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const arrivals: number[] = [];
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      arrivals.push(Date.now());
      text += decoder.decode(chunk, { stream: true });
    }
    assert.equal(text.match(/^data: /gm)?.length, 3);
    assert.ok(arrivals.length >= 3, 'events arrive as separate chunks');
    assert.ok(arrivals.at(-1)! - arrivals[0] >= 150, 'spread over time');
  });

  test('/ws upgrade: handshake, one text frame with the headers, close', async () => {
    const key = randomBytes(16).toString('base64');
    const { accept, frames } = await new Promise<{ accept: string; frames: Buffer }>((resolve, reject) => {
      const req = http.request(`${upstream.url}/ws`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': key,
          authorization: 'Bearer ws-token',
        },
      });
      req.on('upgrade', (res, socket, head) => {
        const chunks: Buffer[] = [head];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => resolve({ accept: String(res.headers['sec-websocket-accept']), frames: Buffer.concat(chunks) }));
        socket.on('error', reject);
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(accept, createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
    assert.equal(frames[0], 0x81, 'FIN + text');
    const len = frames[1] === 126 ? frames.readUInt16BE(2) : frames[1];
    const start = frames[1] === 126 ? 4 : 2;
    const payload = JSON.parse(frames.subarray(start, start + len).toString()) as { headers: Record<string, string> };
    assert.equal(payload.headers.authorization, 'Bearer ws-token');
    assert.equal(frames[start + len], 0x88, 'close frame follows');
    assert.equal(upstream.last('/ws')?.upgrade, true);
  });
});
