// Faithful forwarding (SPEC §4 items 3 and 5) against the production build: bodies stream both ways,
// server-sent events arrive chunk by chunk, WebSocket upgrades reach the upstream with the Bearer
// header and without Gatehouse cookies, oversized bodies get 413 and are never forwarded truncated,
// a silent upstream gives 504 and an unreachable one 502, upstream answers pass through, and
// sidecar mode forwards everything but /oauth2.
//
//   NEXT_DIST_DIR=.next-hostile node --import tsx --test test/integration/forwarding.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FETCH_HEADERS, NAVIGATION_HEADERS, sessionCookieOf } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { pieces, uploadThenRead } from './raw-http';

interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Arrival time (performance.now()) and text of every body chunk. */
  chunks: Array<{ at: number; text: string }>;
  endAt: number;
  ms: number;
}

/** node:http request with exact headers; `pieces` are written one by one (chunked encoding).
 *  Bounded by its own timer, whatever the socket does (reset, half-open, stalled stream). */
function send(url: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer; pieces?: Buffer[]; timeoutMs?: number } = {}): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timeoutMs = o.timeoutMs ?? 15_000;
    let settled = false;
    const settle = (error: Error | null, value?: Sent) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(value!);
    };
    const timer = setTimeout(() => settle(new Error(`${o.method ?? 'GET'} ${url}: no complete response within ${timeoutMs} ms`)), timeoutMs);
    const headers = { ...o.headers, ...(o.body ? { 'content-length': String(o.body.length) } : {}) };
    const req = http.request(url, { method: o.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Sent['chunks'] = [];
      res.on('data', (c: Buffer) => chunks.push({ at: performance.now(), text: c.toString('latin1') }));
      res.on('end', () => {
        const endAt = performance.now();
        settle(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.from(chunks.map((c) => c.text).join(''), 'latin1'), chunks, endAt, ms: endAt - t0 });
      });
      res.on('close', () => settle(new Error(`${url}: response closed before its end`)));
      res.on('error', (e) => settle(e));
    });
    // The server may answer (413) and stop reading before the whole body is written: the answer
    // still arrives, so a broken pipe is not a failure by itself (the timer bounds the wait).
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : settle(e)));
    if (o.pieces) {
      (async () => {
        for (const p of o.pieces!) if (!req.write(p)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(() => undefined);
    } else req.end(o.body);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface WsResult {
  status: number;
  head: string;
  headers: Record<string, string>;
  frames: Array<{ opcode: number; payload: Buffer }>;
}

/** A hand-rolled RFC 6455 client: handshake, then server frames until a close frame or the end. */
function websocket(port: number, path: string, extra: Record<string, string>): Promise<WsResult & { key: string }> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('WebSocket: no close frame within 5 s'));
    }, 5_000);
    let buf = Buffer.alloc(0);
    let result: WsResult | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      if (result) resolve({ ...result, key });
      else reject(new Error(`WebSocket: no handshake answer; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
    };
    socket.on('connect', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${key}`];
      for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!result) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const [statusLine, ...lines] = head.split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        result = { status: Number(statusLine.split(' ')[1]), head, headers, frames: [] };
        buf = buf.subarray(end + 4);
        if (result.status !== 101) return done();
      }
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) [len, at] = [buf.readUInt16BE(2), 4];
        else if (len === 127) [len, at] = [Number(buf.readBigUInt64BE(2)), 10];
        if (buf.length < at + len) return;
        result.frames.push({ opcode: buf[0] & 0x0f, payload: buf.subarray(at, at + len) });
        buf = buf.subarray(at + len);
        if ((result.frames.at(-1)!.opcode) === 0x8) return done();
      }
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}

describe('forwarding (SPEC §4 item 5)', { timeout: 180_000 }, () => {
  let api: Stack; // /api, /down (closed port), /extra (upstream below); UPSTREAM_TIMEOUT=1s
  let sidecar: Stack; // UPSTREAMS=/=…, UPSTREAM_MAX_BODY=1MB
  let session: string;
  let extra: http.Server;
  const LIMIT = 1024 * 1024;

  before(async () => {
    // An upstream answering what the recording one cannot: a redirect, and Next-internal headers.
    extra = http.createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(301, { location: '/api/elsewhere?from=upstream' }).end();
      else if (req.url === '/internal-headers') {
        res.writeHead(200, { 'x-middleware-rewrite': 'http://10.1.2.3:8080/internal', 'x-middleware-next': '1', 'x-nextjs-cache': 'HIT', 'x-custom': 'kept', 'content-type': 'text/plain' }).end('ok');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => extra.listen(0, '127.0.0.1', r));
    const extraUrl = `http://127.0.0.1:${(extra.address() as net.AddressInfo).port}`;
    const closedPort = await freePort();
    [api, sidecar] = await Promise.all([startStack({ startApp: false }), startStack({ startApp: false })]);
    await Promise.all([
      api.restartApp({ UPSTREAMS: `/api=${api.upstream.url},/down=http://127.0.0.1:${closedPort},/extra=${extraUrl}`, UPSTREAM_TIMEOUT: '1s' }),
      sidecar.restartApp({ UPSTREAMS: `/=${sidecar.upstream.url}`, UPSTREAM_MAX_BODY: '1MB' }),
    ]);
    ({ cookie: session } = await sessionCookieOf(api.appUrl));
  }, { timeout: 90_000 });
  after(async () => {
    extra?.close();
    extra?.closeAllConnections();
    await Promise.all([api?.close(), sidecar?.close()]);
  });

  /** Ordering barrier: once this round trip through the same app is done, anything the previous
   *  request would have made the upstream record has been recorded. */
  const barrier = async (stack: Stack, path: string) => assert.equal((await send(`${stack.appUrl}${path}`, { headers: FETCH_HEADERS })).status, 200);

  test('a 5 MB request body reaches the upstream byte for byte (Content-Length and chunked)', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    for (const mode of ['content-length', 'chunked'] as const) {
      const before = api.upstream.requests.length;
      const res = await send(`${api.appUrl}/api/echo-body`, { method: 'POST', headers: { ...FETCH_HEADERS, 'content-type': 'application/octet-stream' }, ...(mode === 'chunked' ? { pieces: pieces(body) } : { body }) });
      assert.equal(res.status, 200, `${mode}: ${res.body.toString().slice(0, 200)}`);
      assert.equal(res.headers['x-received-bytes'], String(body.length), mode);
      const got = api.upstream.requests.slice(before).filter((r) => r.url === '/echo-body');
      assert.equal(got.length, 1, mode);
      assert.equal(sha(got[0].body), sha(body), `${mode}: same bytes`);
    }
  });

  for (const encoding of [undefined, 'gzip, deflate, br']) {
    test(`server-sent events arrive chunk by chunk${encoding ? ` (Accept-Encoding: ${encoding})` : ''}`, async () => {
      const res = await send(`${api.appUrl}/api/sse`, { headers: { ...FETCH_HEADERS, accept: 'text/event-stream', ...(encoding ? { 'accept-encoding': encoding } : {}) } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/event-stream');
      assert.equal(res.headers['content-encoding'], undefined, 'not compressed (compression buffers)');
      assert.equal(res.body.toString().match(/^data: /gm)?.length, 3, res.body.toString());
      const first = res.chunks.find((c) => c.text.includes('id: 1'));
      assert.ok(first, 'first event seen');
      assert.doesNotMatch(first.text, /id: 3/, 'the first event did not wait for the last one');
      // The upstream spaces its three events 100 ms apart: a buffered stream arrives all at the end.
      assert.ok(res.endAt - first.at >= 150, `first event ${Math.round(res.endAt - first.at)} ms before the end`);
    });
  }

  test('WebSocket upgrade: Bearer replaces client Authorization, no Gatehouse cookies upstream, the frame arrives', async () => {
    const ws = await websocket(api.port, '/api/ws?room=1', { Cookie: `theme=dark; ${session}`, Authorization: 'Basic eDp5', Origin: api.appUrl });
    assert.equal(ws.status, 101, ws.head);
    assert.equal(ws.headers['sec-websocket-accept'], createHash('sha1').update(`${ws.key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
    assert.equal(ws.frames[0]?.opcode, 0x1, 'a text frame first');
    const echoed = JSON.parse(ws.frames[0].payload.toString()) as { path: string; headers: Record<string, string> };
    assert.equal(echoed.path, '/ws');
    assert.match(echoed.headers.authorization, /^Bearer \S+$/);
    assert.equal(echoed.headers.cookie, 'theme=dark');
    assert.equal(ws.frames.at(-1)?.opcode, 0x8, 'then the close frame');
    const rec = api.upstream.last('/ws');
    assert.equal(rec?.upgrade, true);
    assert.equal(rec?.url, '/ws?room=1');
    assert.equal(rec?.rawHeaders.filter((h) => h.toLowerCase() === 'authorization').length, 1);
  });

  test('WebSocket upgrade without a session: client Authorization removed', async () => {
    const ws = await websocket(api.port, '/api/ws', { Authorization: 'Bearer forged', Cookie: 'gatehouse.session=garbage' });
    assert.equal(ws.status, 101, ws.head);
    const echoed = JSON.parse(ws.frames[0].payload.toString()) as { headers: Record<string, string> };
    assert.equal(echoed.headers.authorization, undefined);
    assert.equal(echoed.headers.cookie, undefined);
  });

  test('with a session: Bearer upstream, foreign cookies kept, Gatehouse cookies and client Authorization not', async () => {
    const res = await send(`${api.appUrl}/api/me`, { headers: { ...FETCH_HEADERS, cookie: `a=1; ${session}; b=2`, authorization: 'Basic eDp5', 'x-request-id': 'trace-123' } });
    assert.equal(res.status, 200);
    const rec = api.upstream.last('/me')!;
    assert.match(String(rec.headers.authorization), /^Bearer \S+$/);
    assert.equal(rec.headers.cookie, 'a=1; b=2');
    assert.equal(rec.headers['x-request-id'], 'trace-123');
    assert.equal(res.headers['x-request-id'], 'trace-123');
  });

  test('after a flood of new header names, client-sent internal and hop-by-hop headers still never reach the upstream', async () => {
    // Header decisions are remembered per name, in a bounded memo that a flood empties (lib/upstream/plan.ts).
    for (let round = 0; round < 12; round++) {
      const flood = Object.fromEntries(Array.from({ length: 100 }, (_, n) => [`x-flood-${round}-${n}`, 'v']));
      assert.equal((await send(`${api.appUrl}/api/flood`, { headers: { ...FETCH_HEADERS, cookie: session, ...flood } })).status, 200);
    }
    const long = `x-auth-request-${'a'.repeat(200)}`;
    const hostile = {
      x_auth_request_user: 'admin',
      'x-auth-request-email': 'admin@example.com',
      [long]: 'v',
      'x-forwarded-host': 'evil.example',
      'x-middleware-subrequest': 'middleware',
      connection: 'keep-alive, x-hop',
      'x-hop': 'for the next hop only',
      'x-kept': 'yes',
    };
    assert.equal((await send(`${api.appUrl}/api/me-after-flood`, { headers: { ...FETCH_HEADERS, cookie: session, ...hostile } })).status, 200);
    const rec = api.upstream.last('/me-after-flood')!;
    for (const name of ['x_auth_request_user', 'x-auth-request-email', long, 'x-middleware-subrequest', 'x-hop']) assert.equal(name in rec.headers, false, name);
    assert.notEqual(rec.headers['x-forwarded-host'], 'evil.example');
    assert.equal(rec.headers['x-kept'], 'yes');
    assert.match(String(rec.headers.authorization), /^Bearer \S+$/);
  });

  test('a body exactly at UPSTREAM_MAX_BODY is forwarded whole', async () => {
    const body = randomBytes(LIMIT);
    const res = await send(`${sidecar.appUrl}/echo-body`, { method: 'POST', headers: FETCH_HEADERS, pieces: pieces(body) });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-received-bytes'], String(LIMIT));
  });

  test('a declared Content-Length over UPSTREAM_MAX_BODY → 413 at once, before any body, and the upstream sees nothing', async () => {
    const before = sidecar.upstream.requests.length;
    const res = await uploadThenRead(sidecar.port, `POST /echo-body HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\nContent-Length: ${16 * LIMIT}\r\n\r\n`, [], { readFirst: true });
    assert.equal(res.status, 413, res.text);
    assert.ok(res.ms < 2_000, `${Math.round(res.ms)} ms`);
    await barrier(sidecar, '/after-413');
    assert.deepEqual(sidecar.upstream.requests.slice(before).filter((r) => r.url === '/echo-body'), []);
  });

  for (const mode of ['content-length', 'chunked'] as const) {
    test(`a 16 MB body over UPSTREAM_MAX_BODY (${mode}), read after sending like curl or Python requests → the 413 arrives, nothing truncated upstream`, async () => {
      const before = sidecar.upstream.requests.length;
      const body = pieces(randomBytes(16 * LIMIT));
      const head = `POST /echo-body HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\nConnection: close\r\n${mode === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${16 * LIMIT}`}\r\n\r\n`;
      const framed = mode === 'chunked' ? [...body.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')] : body;
      const res = await uploadThenRead(sidecar.port, head, framed);
      assert.equal(res.status, 413, `the 413 was lost (${res.writeError ?? 'no write error'}): the connection was closed while the body was still arriving, so the client saw a reset instead of the answer`);
      assert.equal(JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)).error, 'payload_too_large');
      await barrier(sidecar, '/after-413');
      const echo = sidecar.upstream.requests.slice(before).filter((r) => r.url === '/echo-body');
      assert.deepEqual(echo.map((r) => r.body.length), [], 'no (truncated) request reached the upstream');
    });
  }

  test('a silent upstream → 504 after UPSTREAM_TIMEOUT: JSON for fetch, the error page for navigation', async () => {
    const fetched = await send(`${api.appUrl}/api/hang`, { headers: FETCH_HEADERS });
    assert.equal(fetched.status, 504);
    assert.match(String(fetched.headers['content-type']), /application\/json/);
    assert.equal(JSON.parse(fetched.body.toString()).error, 'upstream_timeout');
    assert.ok(fetched.ms >= 900 && fetched.ms < 10_000, `${Math.round(fetched.ms)} ms for a 1s timeout`);
    const navigated = await send(`${api.appUrl}/api/hang`, { headers: NAVIGATION_HEADERS });
    assert.equal(navigated.status, 504);
    assert.match(String(navigated.headers['content-type']), /text\/html/);
    assert.ok(navigated.body.toString().includes(String(navigated.headers['x-request-id'])), 'the page shows the correlation id');
  });

  test('a silent upstream on a pooled connection (just used, handed out at once) → 504 after UPSTREAM_TIMEOUT too', async () => {
    assert.equal((await send(`${api.appUrl}/api/before-hang`, { headers: FETCH_HEADERS })).status, 200, 'leaves a free pooled connection');
    const fetched = await send(`${api.appUrl}/api/hang`, { headers: FETCH_HEADERS });
    assert.equal(fetched.status, 504);
    assert.equal(JSON.parse(fetched.body.toString()).error, 'upstream_timeout');
    assert.ok(fetched.ms >= 900 && fetched.ms < 10_000, `${Math.round(fetched.ms)} ms for a 1s timeout`);
  });

  test('an unreachable upstream → 502: JSON for fetch, the error page for navigation', async () => {
    const fetched = await send(`${api.appUrl}/down/x`, { headers: FETCH_HEADERS });
    assert.equal(fetched.status, 502);
    assert.equal(JSON.parse(fetched.body.toString()).error, 'upstream_unavailable');
    const navigated = await send(`${api.appUrl}/down/x`, { headers: NAVIGATION_HEADERS });
    assert.equal(navigated.status, 502);
    assert.match(String(navigated.headers['content-type']), /text\/html/);
    assert.doesNotMatch(navigated.body.toString(), /127\.0\.0\.1|ECONNREFUSED/, 'no internal detail on the page');
  });

  test('upstream Set-Cookie reaches the browser', async () => {
    const res = await send(`${api.appUrl}/api/set-cookie`, { headers: { ...FETCH_HEADERS, cookie: session } });
    assert.equal(res.status, 200);
    assert.ok(res.headers['set-cookie']?.includes('upstream=1; Path=/'), JSON.stringify(res.headers['set-cookie']));
  });

  test('upstream status codes pass through (201, 204, 404, 418, 503, 301 with Location)', async () => {
    for (const code of [201, 204, 404, 418, 503]) {
      const res = await send(`${api.appUrl}/api/status/${code}`, { headers: FETCH_HEADERS });
      assert.equal(res.status, code);
      if (code === 204) assert.equal(res.body.length, 0);
      else assert.equal(JSON.parse(res.body.toString()).status, code);
    }
    const moved = await send(`${api.appUrl}/extra/redirect`, { headers: NAVIGATION_HEADERS });
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, '/api/elsewhere?from=upstream');
  });

  test('x-middleware-rewrite and other Next internals never reach the browser', async () => {
    const internal = await send(`${api.appUrl}/extra/internal-headers`, { headers: FETCH_HEADERS });
    assert.equal(internal.status, 200);
    assert.equal(internal.headers['x-custom'], 'kept');
    for (const res of [internal, await send(`${api.appUrl}/api/x`, { headers: FETCH_HEADERS }), await send(`${api.appUrl}/`, { headers: NAVIGATION_HEADERS })]) {
      const leaked = Object.keys(res.headers).filter((h) => /^x-middleware-|^x-nextjs-/.test(h));
      assert.deepEqual(leaked, [], JSON.stringify(res.headers));
      assert.doesNotMatch(JSON.stringify(res.headers), /10\.1\.2\.3|127\.0\.0\.1:\d+\/(?!oauth2)/);
    }
  });

  test('a client that goes away mid-request is not logged as an upstream failure', async () => {
    const before = api.upstream.requests.length;
    const logsBefore = api.app.logs.length;
    const controller = new AbortController();
    const pending = http.get(`${api.appUrl}/api/slow?ms=5000`, { headers: FETCH_HEADERS, agent: false, signal: controller.signal });
    pending.on('error', () => undefined);
    await eventually('the upstream to get /slow', 5_000, () => api.upstream.requests.slice(before).some((r) => r.url.startsWith('/slow')));
    controller.abort();
    await barrier(api, '/api/after-abort');
    const failures = api.app.logs.slice(logsBefore).filter((l) => /upstream request failed|"level":"error"/.test(l));
    assert.deepEqual(failures, [], 'a browser closing its tab is not an upstream failure');
  });

  test('sidecar mode: every path but /oauth2 goes upstream, path and query intact', async () => {
    const before = sidecar.upstream.requests.length;
    const deep = await send(`${sidecar.appUrl}/anything/deep?q=1&r=%2F`, { headers: NAVIGATION_HEADERS });
    assert.equal(deep.status, 200);
    const root = await send(`${sidecar.appUrl}/`, { headers: NAVIGATION_HEADERS });
    assert.equal(root.status, 200);
    const ping = await send(`${sidecar.appUrl}/oauth2/ping`);
    assert.equal(ping.body.toString().trim(), 'pong');
    assert.deepEqual(sidecar.upstream.requests.slice(before).map((r) => r.url), ['/anything/deep?q=1&r=%2F', '/']);
  });
});
