// The drain of lib/server/shutdown.ts on real sockets, with the clock in the test's hand: each
// phase (serving on during the wait, listener closed, grace over) starts exactly when the test
// advances the timers, so what a connection sees in each phase is asserted without timing anything.
// The integration suite test/integration/drain.test.ts runs the same against the production build.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { createDrain, isShuttingDown, type Timers } from './shutdown';

/** Timers that fire only when the test says how much time has passed. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers & { advance(ms: number): void; pending(): number } = {
    setTimeout(fn, ms) {
      seq += 1;
      due.set(seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (handle) => void due.delete(handle as number),
    now: () => now,
    advance(ms) {
      now += ms;
      for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) continue;
        due.delete(id);
        t.fn();
      }
    },
    pending: () => due.size,
  };
  return timers;
}

interface Rig {
  port: number;
  server: http.Server;
  timers: ReturnType<typeof manualTimers>;
  exits: number[];
  storeClosed: () => boolean;
  drain: ReturnType<typeof createDrain>;
  /** A response the test finishes by hand, once its request has arrived. */
  held(path: string): Promise<http.ServerResponse>;
}

const rigs: http.Server[] = [];
after(() => rigs.forEach((s) => s.closeAllConnections()));

/** A server whose /hold/* requests wait for the test, /stream/* start a body and wait, the rest answer at once. */
async function rig(settings: { waitMs: number; graceMs: number }, closeStore: () => Promise<unknown> = async () => undefined): Promise<Rig> {
  const held = new Map<string, http.ServerResponse>();
  const waiting = new Map<string, (res: http.ServerResponse) => void>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/stream/')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first;');
    }
    if (url.startsWith('/hold/') || url.startsWith('/stream/')) {
      held.set(url, res);
      return void waiting.get(url)?.(res);
    }
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000; // only the drain may close an idle connection here
  server.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
  });
  rigs.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const timers = manualTimers();
  const exits: number[] = [];
  let closed = false;
  const drain = createDrain({
    server,
    metricsServer: null,
    settings,
    timers,
    exit: (code) => exits.push(code),
    closeStore: () => closeStore().finally(() => (closed = true)),
  });
  const heldResponse = (path: string) => new Promise<http.ServerResponse>((resolve) => (held.has(path) ? resolve(held.get(path)!) : waiting.set(path, resolve)));
  return { port, server, timers, exits, storeClosed: () => closed, drain, held: heldResponse };
}

/** A keep-alive client connection that reads responses as they come. */
async function connect(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  const listeners = new Set<() => void>();
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    listeners.forEach((l) => l());
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    socket,
    closed,
    text: () => text,
    send: (path: string, extra = '') => socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`),
    /** Resolves once the received text matches. */
    until: (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => pattern.test(text) && (listeners.delete(check), resolve());
        listeners.add(check);
        check();
      }),
  };
}

const refused = (port: number) =>
  new Promise<string>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve('connected')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });

/** A drain that never ends would otherwise hang the test: fail it instead. */
const BOUNDED = { timeout: 5_000 };

describe('drain on a shutdown signal', () => {
  test('readiness fails at the signal; during the wait the listener serves on, and answers close their connection', BOUNDED, async () => {
    const r = await rig({ waitMs: 5_000, graceMs: 20_000 });
    const before = await connect(r.port);
    before.send('/a');
    await before.until(/ok$/);
    void r.drain.begin('SIGTERM');
    assert.equal(isShuttingDown(), true);
    r.timers.advance(4_999);
    assert.equal(r.server.listening, true);
    const during = await connect(r.port);
    during.send('/b');
    await during.until(/ok$/);
    assert.match(during.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(during.text(), /\r\nConnection: close\r\n/i);
    await during.closed; // closed by the server after its answer
    // The connection made before the signal still works, and is told to close.
    before.send('/c');
    await before.until(/ok[\s\S]*ok$/);
    await before.closed;
    assert.deepEqual(r.exits, []);
    r.timers.advance(1);
    assert.equal(await refused(r.port), 'ECONNREFUSED');
  });

  test('after the wait: new connections refused, idle keep-alive closed, requests in flight finish, then exit 0 without waiting out the grace', BOUNDED, async () => {
    const r = await rig({ waitMs: 1_000, graceMs: 20_000 });
    const idle = await connect(r.port);
    idle.send('/idle');
    await idle.until(/ok$/);
    const slow = await connect(r.port);
    slow.send('/hold/slow');
    const stream = await connect(r.port);
    stream.send('/stream/sse');
    await stream.until(/first;/);
    const [slowRes, streamRes] = await Promise.all([r.held('/hold/slow'), r.held('/stream/sse')]);

    const done = r.drain.begin('SIGTERM');
    r.timers.advance(1_000);
    assert.equal(await refused(r.port), 'ECONNREFUSED');
    await idle.closed;
    assert.deepEqual(r.exits, []);

    slowRes.end('slow done');
    await slow.until(/slow done$/);
    assert.match(slow.text(), /\r\nConnection: close\r\n/i, 'its head went out after the signal');
    await slow.closed;
    // The stream's head went out before the signal: it keeps its connection until it ends.
    streamRes.write('second;');
    await stream.until(/second;/);
    assert.deepEqual(r.exits, []);
    streamRes.end('last');
    await stream.closed;
    assert.match(stream.text(), /first;[\s\S]*second;[\s\S]*last/);
    await done;
    assert.deepEqual(r.exits, [0]);
    assert.equal(r.storeClosed(), true);
  });

  test('what is still open when the grace is over is cut, WebSockets included; then exit 0', BOUNDED, async () => {
    const r = await rig({ waitMs: 0, graceMs: 3_000 });
    const stream = await connect(r.port);
    stream.send('/stream/long');
    await stream.until(/first;/);
    const ws = await connect(r.port);
    ws.send('/ws', 'Upgrade: test\r\nConnection: Upgrade\r\n');
    await ws.until(/101 Switching Protocols/);

    const done = r.drain.begin('SIGTERM');
    assert.equal(await refused(r.port), 'ECONNREFUSED', 'a zero wait stops accepting at once');
    r.timers.advance(2_999);
    (await r.held('/stream/long')).write('more;');
    await stream.until(/more;/);
    assert.deepEqual(r.exits, []);
    r.timers.advance(1);
    await Promise.all([stream.closed, ws.closed, done]);
    assert.doesNotMatch(stream.text(), /0\r\n\r\n$/, 'the stream was cut, not ended');
    assert.deepEqual(r.exits, [0]);
  });

  test('a second signal stops at once, even during the wait', BOUNDED, async () => {
    const r = await rig({ waitMs: 5_000, graceMs: 20_000 });
    const stream = await connect(r.port);
    stream.send('/stream/x');
    await stream.until(/first;/);
    void r.drain.begin('SIGINT');
    const done = r.drain.begin('SIGINT');
    await Promise.all([stream.closed, done]);
    assert.equal(r.server.listening, false);
    assert.deepEqual(r.exits, [0]);
  });

  test('a session store that never says goodbye does not hold the exit', BOUNDED, async () => {
    const r = await rig({ waitMs: 0, graceMs: 0 }, () => new Promise(() => undefined));
    const done = r.drain.begin('SIGTERM');
    await new Promise<void>((resolve) => setImmediate(resolve)); // let end() reach the store
    assert.deepEqual(r.exits, []);
    r.timers.advance(1_000);
    await done;
    assert.deepEqual(r.exits, [0]);
  });
});
