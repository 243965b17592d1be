// Raw HTTP/1.1 over a socket for the integration suites: fetch and http.request refuse to send
// most of what the hostile-input suite sends (odd casing and duplicates kept, CR/LF, raw bytes,
// conflicting framing), and cannot write a whole body before reading the answer, as curl or Python
// requests do. Answers are read as they come: 1xx skipped, early answers on a half-sent body kept,
// malformed header lines kept for inspection.

import { Buffer } from 'node:buffer';
import net from 'node:net';

export type Hdrs = Array<[string, string]>;
export interface RawSpec {
  method?: string;
  /** Required unless `raw` is given. */
  target?: string;
  headers?: Hdrs;
  body?: string | Buffer;
  /** Send these bytes verbatim instead of building a request. */
  raw?: string | Buffer;
}

export interface RawResponse {
  status: number;
  lines: string[];
  headers: Hdrs;
  body: Buffer;
  ms: number;
  header(name: string): string | undefined;
}

/** Headers of a fetch() from page script, and of a top-level navigation. */
export const FETCH: Hdrs = [['Sec-Fetch-Mode', 'cors'], ['Sec-Fetch-Dest', 'empty'], ['Accept', 'application/json']];
export const NAV: Hdrs = [['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Dest', 'document'], ['Accept', 'text/html']];
/** A GET of `target` with these header lines. */
export const get = (target: string, headers: Hdrs = FETCH): RawSpec => ({ target, headers });
/** Raw UTF-8 bytes of `s`, to go out as written (`build` sends latin1). */
export const utf8AsLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
export const withCookie = (cookie: string, headers: Hdrs = FETCH): Hdrs => [...headers, ['Cookie', cookie]];

const TIMEOUT_MS = 5_000;

/** Parses one complete response (skipping 1xx) from `buf`, or null while it is incomplete. */
function parseResponse(buf: Buffer, head: boolean, eof: boolean): Omit<RawResponse, 'ms'> | null {
  let offset = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', offset);
    if (end < 0) return null;
    const [statusLine, ...lines] = buf.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? -1);
    const start = end + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      offset = start;
      continue;
    }
    const headers: Hdrs = lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
    const done = (body: Buffer) => ({ status, lines, headers, body, header: (n: string) => headers.find((h) => h[0] === n)?.[1] });
    if (head || status === 204 || status === 304 || status === 101) return done(Buffer.alloc(0));
    if (/chunked/i.test(headers.find((h) => h[0] === 'transfer-encoding')?.[1] ?? '')) {
      const parts: Buffer[] = [];
      for (let at = start; ; ) {
        const eol = buf.indexOf('\r\n', at);
        if (eol < 0) return eof ? done(Buffer.concat(parts)) : null;
        const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
        if (size === 0) return done(Buffer.concat(parts));
        if (buf.length < eol + 2 + size + 2) return eof ? done(Buffer.concat(parts)) : null;
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
    }
    const length = headers.find((h) => h[0] === 'content-length')?.[1];
    if (length !== undefined) return buf.length - start >= Number(length) || eof ? done(buf.subarray(start, start + Number(length))) : null;
    return eof ? done(buf.subarray(start)) : null;
  }
}

/** One request over a fresh socket; resolves with the first complete response, rejects on a hang. */
export function raw(port: number, data: Buffer, head = false, timeoutMs = TIMEOUT_MS): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const settle = (eof: boolean, error?: Error) => {
      if (settled) return;
      const parsed = parseResponse(buf, head, eof);
      if (!parsed && !eof) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (parsed) resolve({ ...parsed, ms: performance.now() - t0 });
      else reject(error ?? new Error(`connection closed without a response; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`));
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms (hang); got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      settle(false);
    });
    socket.on('end', () => settle(true));
    socket.on('close', () => settle(true));
    // EPIPE/ECONNRESET after the server answered early (431, 413) and closed: use what arrived.
    socket.on('error', (error) => settle(true, error));
  });
}

/** The bytes of the request `spec` describes: Host (unless given), `Connection: close` and a
 *  Content-Length for a body are added; `raw` goes out verbatim. */
export function build(spec: RawSpec, host: string): Buffer {
  if (spec.raw !== undefined) return Buffer.from(spec.raw as string, typeof spec.raw === 'string' ? 'latin1' : undefined);
  const headers = spec.headers ?? FETCH;
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  const all: Hdrs = [...(names.has('host') ? [] : ([['Host', host]] as Hdrs)), ...headers];
  if (!names.has('connection')) all.push(['Connection', 'close']);
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.from(spec.body);
  if (spec.body !== undefined && !names.has('content-length') && !names.has('transfer-encoding')) all.push(['Content-Length', String(body.length)]);
  const headText = `${spec.method ?? 'GET'} ${spec.target ?? '/'} HTTP/1.1\r\n${all.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  // latin1: a test's "bytes" (0xFF, raw UTF-8 produced by Buffer.from(..., 'utf8').toString('latin1')) go out as written.
  return Buffer.concat([Buffer.from(headText, 'latin1'), body]);
}

/** `buf` cut into pieces of `size` bytes (the last one shorter). */
export const pieces = (buf: Buffer, size = 64 * 1024) => Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));

/** Writes `head` and `body` to a raw socket, reading nothing until everything is written (or the
 *  write fails), as curl, Python requests or Java's HttpURLConnection do; then reads the answer.
 *  `readFirst`: read at once instead (the answer must come without the body). */
export function uploadThenRead(port: number, head: string, body: Buffer[], o: { readFirst?: boolean } = {}): Promise<{ status: number; text: string; ms: number; writeError?: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    if (!o.readFirst) socket.pause();
    let data = Buffer.alloc(0);
    let writeError: string | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, ms: performance.now() - t0, writeError });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 20 s; got ${JSON.stringify(data.toString('latin1').slice(0, 200))}`));
    }, 20_000);
    socket.on('error', (e: NodeJS.ErrnoException) => (writeError ??= e.code));
    socket.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      if (o.readFirst && /\r\n\r\n/.test(data.toString('latin1'))) finish();
    });
    socket.on('close', finish);
    socket.on('connect', async () => {
      socket.write(head);
      for (const piece of body) {
        if (socket.destroyed) break;
        if (!socket.write(piece)) await new Promise((r) => (socket.once('drain', r), socket.once('close', r)));
      }
      socket.resume();
      if (!socket.destroyed && !o.readFirst) socket.end();
    });
  });
}
