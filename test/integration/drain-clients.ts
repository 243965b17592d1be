// Clients that are in the middle of something when Gatehouse is told to stop: an upload that
// drips its body, an SSE stream read event by event, and a bare connection attempt. Raw sockets
// on keep-alive connections (no `Connection: close` from the client), so closing a connection
// after its answer is the server's doing.

import { Buffer } from 'node:buffer';
import net from 'node:net';

/** A load pattern, not a clock: `bytes` every `everyMs`, `times` times. */
export interface Drip { bytes: number; everyMs: number; times: number }

export interface SlowUpload {
  /** True once the server closed the connection (the answer is complete then). */
  readonly done: boolean;
  /** Status, lower-case response headers and body of the answer, once the connection closed. */
  result: Promise<{ status: number; headers: Record<string, string>; body: string }>;
}

function parseHead(text: string) {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = (end < 0 ? text : text.slice(0, end)).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: end < 0 ? '' : text.slice(end + 4) };
}

/** POSTs `drip.bytes * drip.times` bytes to `path`, a few at a time. */
export function slowUpload(port: number, host: string, path: string, drip: Drip): SlowUpload {
  let done = false;
  const result = new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => socket.destroy(new Error(`upload ${path}: not closed within 60 s`)), 60_000);
    const send = () => {
      if (sent === drip.times) return clearInterval(timer);
      sent += 1;
      socket.write(Buffer.alloc(drip.bytes, 0x61 + (sent % 26)));
    };
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\nSec-Fetch-Mode: cors\r\nContent-Type: application/octet-stream\r\nContent-Length: ${drip.bytes * drip.times}\r\n\r\n`);
      send();
      timer = setInterval(send, drip.everyMs);
    });
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', (e) => reject(e));
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(guard);
      done = true;
      resolve(parseHead(text));
    });
  });
  return {
    get done() {
      return done;
    },
    result,
  };
}

export interface SseStream {
  /** The `id:` of every event received so far, in order. */
  ids: number[];
  /** The response head (status line and headers), once received. */
  head(): string;
  /** Resolves with `ids.length` once at least `n` events have arrived. */
  events(n: number): Promise<number>;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
  readonly isClosed: boolean;
  close(): void;
}

/** GETs an event stream on a keep-alive connection and records its events as they arrive. */
export function sseStream(port: number, host: string, path: string): SseStream {
  const socket = net.connect({ host: '127.0.0.1', port });
  const ids: number[] = [];
  let text = '';
  let isClosed = false;
  const waiters = new Set<() => void>();
  socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\nSec-Fetch-Mode: cors\r\n\r\n`));
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    ids.splice(0, ids.length, ...[...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])));
    waiters.forEach((w) => w());
  });
  socket.on('error', () => undefined); // a cut stream may end in ECONNRESET: `closed` says it ended
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      waiters.forEach((w) => w());
      resolve();
    }),
  );
  return {
    ids,
    head: () => text.slice(0, Math.max(0, text.indexOf('\r\n\r\n'))),
    events: (n) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (ids.length >= n) resolve(ids.length);
          else if (isClosed) reject(new Error(`stream ${path} closed after ${ids.length} of ${n} events: ${JSON.stringify(text.slice(0, 300))}`));
          else return;
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    closed,
    get isClosed() {
      return isClosed;
    },
    close: () => socket.destroy(),
  };
}

/** 'connected', or the error code of a refused connection (ECONNREFUSED once the listener is closed). */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}
