// WebSocket handshakes (issue 7 items 1 and 8), against the production build:
// - a handshake that carries a body (Content-Length or chunked, the body a second HTTP request) is
//   refused with 400 and the upstream sees nothing: after the switch the body would travel as
//   "WebSocket data" that an upstream not speaking the protocol yet parses as a request;
// - upgrades are handled once, by Gatehouse, also after Next has served requests (Next attaches its
//   own 'upgrade' listener to the server on the first request it handles);
// - clients that reset or drop the socket mid-handshake do not take the server down.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test --test-concurrency=1 test/integration/websocket-upgrades.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from '../harness/stack';
import { startGatedStack } from './support';
import { eventually } from '../harness/wait';
import { SMUGGLED, SMUGGLED_PATH, chunked } from './framing-cases';
import { FETCH, NAV, build, get, raw, withCookie, type Hdrs } from './raw-http';
import { exchange, handshake } from './ws-client';

/** Handshakes with a body: each must get 400 and leave the upstream untouched. */
const WITH_BODY: Array<{ name: string; headers: Hdrs; body: Buffer }> = [
  { name: 'Content-Length body that is an HTTP request', headers: [['Content-Length', String(SMUGGLED.length)]], body: SMUGGLED },
  { name: 'Transfer-Encoding: chunked body that is an HTTP request', headers: [['Transfer-Encoding', 'chunked']], body: chunked(SMUGGLED) },
  { name: 'Content-Length named in a second Connection line', headers: [['Content-Length', String(SMUGGLED.length)], ['Connection', 'content-length']], body: SMUGGLED },
  { name: 'chunked named in a second Connection line', headers: [['Transfer-Encoding', 'chunked'], ['Connection', 'Transfer-Encoding']], body: chunked(SMUGGLED) },
  { name: 'Content-Length: 1 with one byte', headers: [['Content-Length', '1']], body: Buffer.from('G') },
];

const UNHEALTHY = /unhandled|uncaught|"level":"error"|ECONNRESET|EPIPE|^\s+at /i;

describe('WebSocket upgrades', { timeout: 180_000 }, () => {
  let stack: Stack;
  let host: string;
  let session: string;
  before(async () => {
    ({ stack, host, session } = await startGatedStack());
  }, { timeout: 90_000 });
  after(() => stack?.close());

  /** An ordinary request through the same app, recorded by the upstream: whatever the request
   *  before it made the upstream see has arrived by then (same app, same upstream, in order). */
  async function barrier(id: string) {
    const res = await raw(stack.port, build(get(`/api/public/after?after=${id}`), host));
    assert.equal(res.status, 200);
    await eventually('the ordinary request to reach the upstream', 5_000, () => stack.upstream.arrived.some((r) => r.url === `/public/after?after=${id}`));
  }

  let n = 0;
  for (const c of WITH_BODY) {
    test(`a handshake with a ${c.name} → 400, the upstream sees nothing`, async () => {
      const id = `body-${++n}`;
      const before = stack.upstream.arrived.length;
      const errorsBefore = stack.upstream.clientErrors.length;
      const res = await exchange(stack.port, Buffer.concat([Buffer.from(handshake('/api/ws', host, [['Cookie', session], ...c.headers]), 'latin1'), c.body]));
      assert.equal(res.switches, 0, `no switch to WebSocket:\n${res.text.slice(0, 400)}`);
      assert.equal(res.status, 400, res.text.slice(0, 400));
      await barrier(id);
      assert.deepEqual(stack.upstream.arrived.slice(before).map((r) => r.url), [`/public/after?after=${id}`], 'neither the handshake nor its body reached the upstream');
      assert.ok(!stack.upstream.requests.some((r) => r.url.startsWith(SMUGGLED_PATH) || r.rawHeaders.includes('Bearer forged')));
      assert.deepEqual(stack.upstream.clientErrors.slice(errorsBefore), []);
    });
  }

  // An h2c upgrade would open an HTTP/2 tunnel in which any path and header pass the gate.
  const OTHER_PROTOCOLS: Array<[string, Hdrs]> = [
    ['h2c', [['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA']]],
    ['websocket, h2c', []],
    ['TLS/1.0', []],
  ];
  for (const [protocol, extra] of OTHER_PROTOCOLS) {
    test(`an upgrade to ${protocol} → 400, the upstream sees nothing`, async () => {
      const id = `proto-${++n}`;
      const before = stack.upstream.arrived.length;
      const request = `GET /api/ws HTTP/1.1\r\nHost: ${host}\r\nCookie: ${session}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: ${protocol}\r\n${extra.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
      const res = await exchange(stack.port, Buffer.from(request, 'latin1'));
      assert.equal(res.switches, 0, res.text.slice(0, 300));
      assert.equal(res.status, 400, res.text.slice(0, 300));
      await barrier(id);
      assert.deepEqual(stack.upstream.arrived.slice(before).map((r) => r.url), [`/public/after?after=${id}`]);
    });
  }

  test('after Next has served requests, an upgrade is handled once: one 101, the frame, one upgrade upstream (×3)', async () => {
    const ping = await raw(stack.port, build(get('/oauth2/ping'), host));
    assert.equal(ping.body.toString().trim(), 'pong');
    const page = await raw(stack.port, build(get('/', withCookie(session, NAV)), host));
    assert.equal(page.status, 200, 'Next served the app page (and so attached its own upgrade listener)');
    for (let i = 1; i <= 3; i++) {
      const before = stack.upstream.requests.length;
      const arrivedBefore = stack.upstream.arrived.length;
      const ws = await exchange(stack.port, handshake(`/api/ws?room=${i}`, host, [['Cookie', `theme=dark; ${session}`], ['Authorization', 'Bearer forged']]));
      assert.equal(ws.status, 101, ws.text.slice(0, 400));
      assert.equal(ws.switches, 1, `exactly one 101:\n${ws.text.slice(0, 600)}`);
      assert.equal(ws.frames[0]?.opcode, 0x1, `the upstream's text frame arrives (the socket stayed open):\n${ws.text.slice(0, 600)}`);
      const echoed = JSON.parse(ws.frames[0].payload.toString()) as { path: string; headers: Record<string, string | undefined> };
      assert.equal(echoed.path, '/ws');
      assert.match(String(echoed.headers.authorization), /^Bearer (?!forged)\S+$/);
      assert.equal(echoed.headers.cookie, 'theme=dark', 'no Gatehouse cookie upstream');
      assert.equal(ws.frames.at(-1)?.opcode, 0x8, 'then the close frame');
      const upgrades = stack.upstream.requests.slice(before).filter((r) => r.upgrade);
      assert.deepEqual(upgrades.map((r) => r.url), [`/ws?room=${i}`], 'the upstream saw exactly one upgrade');
      assert.deepEqual(stack.upstream.arrived.slice(arrivedBefore).map((r) => r.url), [`/ws?room=${i}`]);
      assert.equal(upgrades[0].rawHeaders.filter((h) => h.toLowerCase() === 'authorization').length, 1);
    }
  });

  /** Writes `bytes`, then resets (RST) or closes the socket at once, as a crashing client does.
   *  Resolves once the socket is closed; false if the server kept a half-closed one open 5 s. */
  function hangUp(bytes: string, how: 'reset' | 'end' | 'destroy'): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: stack.port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 5_000);
      socket.resume(); // read (and drop) the answer: the server's FIN is seen only by a reader
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.on('connect', () =>
        socket.write(bytes, () => {
          if (how === 'reset') socket.resetAndDestroy();
          else if (how === 'end') socket.end();
          else socket.destroy();
        }),
      );
    });
  }

  test('clients that reset or drop the socket mid-handshake do not crash the server', async () => {
    const logsBefore = stack.app.logs.length;
    const full = (target: string, extra: Hdrs = []) => handshake(target, host, extra);
    const variants: Array<[string, 'reset' | 'end' | 'destroy']> = [
      [full('/api/ws', [['Cookie', session]]), 'reset'], // the upgrade goes ahead upstream
      [full('/api/ws'), 'reset'], // no session: refused
      [full('/api/public/ws'), 'reset'], // public path: upstream declines (not its /ws)
      [full('/nowhere/ws'), 'reset'], // not an upstream route
      [full('/api/ws', [['Cookie', session], ['Content-Length', '5']]), 'reset'], // a body is announced, none sent
      [full('/api/ws', [['Cookie', session]]), 'end'], // FIN right after the handshake
      [full('/api/ws', [['Cookie', session]]).slice(0, 60), 'destroy'], // half a handshake
      [full('/api/ws', [['Cookie', session]]).slice(0, 60), 'reset'],
    ];
    const leftOpen: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (const [bytes, how] of variants) if (!(await hangUp(bytes, how))) leftOpen.push(`${how} after ${JSON.stringify(bytes.split('\r\n')[0])}`);
    }
    assert.deepEqual(leftOpen, [], 'the server closes its side once the client has hung up');
    // A complete upgrade after them takes the same paths through the server: by its end the
    // server has handled (or crashed on) every hang-up before it.
    const ws = await exchange(stack.port, handshake('/api/ws', host, [['Cookie', session]]));
    assert.equal(ws.status, 101, ws.text.slice(0, 400));
    assert.equal(ws.frames[0]?.opcode, 0x1);
    const ping = await raw(stack.port, build(get('/oauth2/ping', FETCH), host));
    assert.equal(ping.body.toString().trim(), 'pong');
    assert.equal(stack.app.process.exitCode, null, 'the app is still running');
    assert.deepEqual(stack.app.logs.slice(logsBefore).filter((l) => UNHEALTHY.test(l)), [], 'no unhandled error logged');
  });

  test('the app logged no unhandled error over the whole suite', () => {
    assert.deepEqual(stack.app.logs.filter((l) => UNHEALTHY.test(l)), []);
  });
});

// Next's own upgrade listener resolves the path against the Next app and ends the socket when it
// finds a page there. In sidecar mode every path but /oauth2 is the upstream's, `/` included, so
// that listener would end a WebSocket Gatehouse is carrying to the upstream.
describe('WebSocket upgrades in sidecar mode, on a path the Next app also has a page for', { timeout: 120_000 }, () => {
  let stack: Stack;
  let host: string;
  before(async () => {
    stack = await startStack({ startApp: false });
    // The route targets the upstream's /ws, so an upgrade on `/` is a WebSocket there.
    await stack.restartApp({ UPSTREAMS: `/=${stack.upstream.url}/ws` });
    host = new URL(stack.appUrl).host;
  }, { timeout: 90_000 });
  after(() => stack?.close());

  test('after Next has served a request, an upgrade on / gets one 101 and the upstream frame (×3)', async () => {
    const ping = await raw(stack.port, build(get('/oauth2/ping'), host));
    assert.equal(ping.body.toString().trim(), 'pong', 'Next served /oauth2/ping (and so attached its own upgrade listener)');
    for (let i = 1; i <= 3; i++) {
      const before = stack.upstream.requests.length;
      const ws = await exchange(stack.port, handshake(`/?round=${i}`, host));
      assert.equal(ws.status, 101, ws.text.slice(0, 400));
      assert.equal(ws.switches, 1, ws.text.slice(0, 600));
      assert.equal(ws.frames[0]?.opcode, 0x1, `the upstream's text frame arrives (the socket stayed open):\n${JSON.stringify(ws.text.slice(0, 600))}`);
      assert.equal(ws.frames.at(-1)?.opcode, 0x8, 'then the close frame');
      assert.deepEqual(stack.upstream.requests.slice(before).filter((r) => r.upgrade).map((r) => r.url), [`/ws/?round=${i}`]);
    }
    assert.deepEqual(stack.app.logs.filter((l) => UNHEALTHY.test(l)), []);
  });
});
