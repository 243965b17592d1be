// A demo upstream that shows — and records — exactly what Gatehouse forwarded to it.
//
// In `npm run dev` it is the API behind `/api`: opening /api/anything in the browser shows the
// `Authorization: Bearer …` header arriving, which is the point of a BFF. In tests it is the
// recording end of the proxy: `requests` keeps every request as received, so a test can assert
// what reached the upstream (and what must not have: Gatehouse cookies, client Authorization...).
// Being node:http, it parses pipelined requests on its keep-alive sockets: bytes smuggled past a
// request's framing show up as an extra entry in `requests`, and bytes that are not HTTP show up
// in `clientErrors` (the server's 'clientError' event: parse errors such as HPE_INVALID_METHOD,
// and socket errors). `arrived` lists every request as soon as its headers are in, before its body
// is read (a slow upload is "at the upstream" long before it is recorded in `requests`).
//
// Routes (exact paths):
//   any other path    200 JSON { method, path, query, headers, body } of what was received
//   /sse?count=N&ms=M text/event-stream, N events (default 3) M ms apart (default 100): streaming
//                     must not be buffered; a long one stays open across a shutdown
//   /status/:code     answers that status
//   /set-cookie       sets `upstream=1; Path=/`
//   /slow?ms=N        answers after N ms
//   /hang             never answers (timeout tests); released on close()
//   /echo-body        reads the whole body, then answers { bytes } + `x-received-bytes`
//   /respond?status=N&header=Name:Value&header=…   (also …/respond, and as an upgrade) answers
//                     status N (default 200) with exactly these header lines, repeats kept
//   /ws, /ws/* (upgrade) minimal RFC 6455 handshake, one text frame with the received headers, close
//                     (/ws/*: so a route mounted on /ws, e.g. UPSTREAMS=/=<url>/ws, upgrades on any path)
// No dependencies (no `ws`): node:http + node:crypto are enough for this.

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { listen } from './listen';

export interface RecordedRequest {
  method: string;
  /** Path + query as received. */
  url: string;
  /** Node's lowercase header object (repeated headers joined, set-cookie/cookie as Node does). */
  headers: http.IncomingHttpHeaders;
  /** Raw name/value pairs in arrival order: shows duplicates (e.g. two Authorization headers). */
  rawHeaders: string[];
  /** Empty for bodiless requests and for /hang (never read). */
  body: Buffer;
  /** True for WebSocket upgrade requests. */
  upgrade: boolean;
  at: number;
}

/** A 'clientError' on one of the upstream's sockets: what its HTTP parser (or the socket) refused. */
export interface ClientError {
  /** e.g. HPE_INVALID_METHOD, HPE_INVALID_CONSTANT, ECONNRESET. */
  code: string;
  message: string;
  /** The bytes the parser choked on, if Node kept them (latin1). */
  rawPacket?: string;
  at: number;
}

export interface UpstreamOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; 'localhost' = 127.0.0.1 and (if present) ::1. */
  host?: string;
}

export interface Upstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Every request (HTTP and upgrade) once its headers have arrived, body not yet read. */
  arrived: Array<{ method: string; url: string; at: number }>;
  clientErrors: ClientError[];
  /** The most recent request whose path (without query) equals `path`, if any. */
  last(path?: string): RecordedRequest | undefined;
  close(): Promise<void>;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One unmasked server→client WebSocket frame (servers must not mask, RFC 6455 §5.1). */
function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = status === 204 || status === 304 ? '' : JSON.stringify(value, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body);
}

/** What `/respond` was asked to answer: the status and the header lines, as a flat name/value list. */
function askedFor(url: URL): { status: number; headers: string[] } {
  const headers: string[] = [];
  for (const line of url.searchParams.getAll('header')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push(line.slice(0, colon), line.slice(colon + 1));
  }
  return { status: Number(url.searchParams.get('status')) || 200, headers };
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const arrived: Upstream['arrived'] = [];
  const clientErrors: ClientError[] = [];
  const sockets = new Set<Socket | Duplex>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const record = (req: http.IncomingMessage, body: Buffer, upgrade = false): RecordedRequest => {
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders],
      body,
      upgrade,
      at: Date.now(),
    };
    requests.push(entry);
    return entry;
  };

  const server = http.createServer(async (req, res) => {
    arrived.push({ method: req.method ?? 'GET', url: req.url ?? '/', at: Date.now() });
    const url = new URL(req.url ?? '/', 'http://upstream.invalid');
    const path = url.pathname;

    // Never read: the point is an upstream that says nothing at all.
    if (path === '/hang') {
      record(req, Buffer.alloc(0));
      return;
    }

    let body: Buffer;
    try {
      body = await readAll(req);
    } catch {
      return; // client went away mid-body
    }
    record(req, body);

    if (path === '/respond' || path.endsWith('/respond')) {
      const { status, headers } = askedFor(url);
      const hasType = headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-type');
      res.writeHead(status, hasType ? headers : [...headers, 'Content-Type', 'application/json; charset=utf-8']);
      res.end(status === 204 || status === 304 || req.method === 'HEAD' ? undefined : JSON.stringify({ path }));
      return;
    }

    const statusMatch = /^\/status\/(\d{3})$/.exec(path);
    if (statusMatch) {
      const status = Number(statusMatch[1]);
      sendJson(res, status, { status });
      return;
    }

    switch (path) {
      case '/sse': {
        // no-transform: tells any compressing hop not to buffer the stream (see PITFALLS).
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
        });
        res.flushHeaders();
        const count = Math.max(1, Math.min(Number(url.searchParams.get('count') ?? '3') || 3, 10_000));
        const everyMs = Math.max(0, Math.min(Number(url.searchParams.get('ms') ?? '100') || 0, 60_000));
        let n = 0;
        let next: NodeJS.Timeout;
        const tick = () => {
          if (res.destroyed || res.writableEnded) return; // client (or proxy) went away
          n += 1;
          res.write(`id: ${n}\nevent: tick\ndata: ${JSON.stringify({ n, at: Date.now() })}\n\n`);
          if (n < count) next = later(everyMs, tick);
          else res.end();
        };
        next = later(0, tick);
        res.on('close', () => clearTimeout(next));
        return;
      }
      case '/set-cookie':
        sendJson(res, 200, { ok: true }, { 'set-cookie': 'upstream=1; Path=/' });
        return;
      case '/slow': {
        const ms = Math.max(0, Math.min(Number(url.searchParams.get('ms') ?? '1000') || 0, 10 * 60_000));
        const t = later(ms, () => sendJson(res, 200, { waitedMs: ms }));
        res.on('close', () => clearTimeout(t));
        return;
      }
      case '/echo-body':
        // Headers must precede the body, so the byte count is only known once the body has ended:
        // answer after reading it all (which is also how a truncated forward would be caught).
        sendJson(res, 200, { bytes: body.length }, { 'x-received-bytes': String(body.length) });
        return;
      default:
        sendJson(res, 200, {
          method: req.method,
          path,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: body.toString('utf8'),
        });
    }
  });

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  // Recorded, then handled as Node does without a listener: 400 for a parse error, else close.
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    clientErrors.push({ code: error.code ?? 'UNKNOWN', message: error.message, rawPacket: error.rawPacket?.toString('latin1'), at: Date.now() });
    if (socket.writable && error.code?.startsWith('HPE_')) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    arrived.push({ method: req.method ?? 'GET', url: req.url ?? '/', at: Date.now() });
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://upstream.invalid').pathname;
    const key = req.headers['sec-websocket-key'];
    record(req, Buffer.alloc(0), true);
    if (path === '/respond' || path.endsWith('/respond')) {
      const { status, headers } = askedFor(new URL(req.url ?? '/', 'http://upstream.invalid'));
      const accepted = status === 101 && typeof key === 'string';
      const own = accepted ? ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', createHash('sha1').update(key + WS_GUID).digest('base64')] : ['Connection', 'close', 'Content-Length', '0'];
      const lines = [...own, ...headers].map((v, i, all) => (i % 2 === 0 ? `${v}: ${all[i + 1]}\r\n` : '')).join('');
      socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Status'}\r\n${lines}\r\n`);
      if (accepted) later(50, () => socket.end());
      else socket.end();
      return;
    }
    if (!(path === '/ws' || path.startsWith('/ws/')) || typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.write(wsFrame(0x1, Buffer.from(JSON.stringify({ path, headers: req.headers }))));
    // Close frame with status 1000 (normal closure), then end our side.
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000, 0);
    socket.write(wsFrame(0x8, code));
    later(50, () => socket.end());
  });

  const host = options.host ?? '127.0.0.1';
  const listening = await listen(server, options.port ?? 0, host);
  const { port } = listening;
  const urlHost = host.includes(':') ? (host === '::' ? '[::1]' : `[${host}]`) : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    arrived,
    clientErrors,
    last(path?: string) {
      for (let i = requests.length - 1; i >= 0; i--) {
        const r = requests[i];
        if (path === undefined || r.url.split('?')[0] === path) return r;
      }
      return undefined;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        listening.closeExtra();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy(); // includes /hang and upgraded sockets
      });
    },
  };
}
