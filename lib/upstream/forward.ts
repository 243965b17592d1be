/**
 * The upstream transport: a plain Node reverse proxy (SPEC §4 item 5). Bodies stream both ways
 * with no buffering or compression (server-sent events arrive chunk by chunk); a body over the
 * limit gets 413 and the upstream request is aborted, never completed truncated; an idle upstream
 * gets 504, an unreachable one 502.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../errors';
import { browserResponseHeaders } from './plan';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 512 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 512 }),
};

export interface ForwardOptions {
  target: URL;
  headers: OutgoingHttpHeaders;
  maxBodyBytes: number;
  idleTimeoutMs: number;
  requestId: string;
  /** Cookies for the browser only (a refreshed cookie session): added to the response, never sent upstream. */
  setCookies: readonly string[];
  /** Called instead of answering when forwarding fails before the upstream answered. */
  onFailure: (code: Extract<ErrorCode, 'payload_too_large' | 'upstream_unavailable' | 'upstream_timeout'>, cause?: unknown) => void;
}

export function forward(req: IncomingMessage, res: ServerResponse, o: ForwardOptions): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > o.maxBodyBytes) {
    req.resume(); // drain what the client is sending so it can read our answer
    return o.onFailure('payload_too_large');
  }
  const transport = o.target.protocol === 'https:' ? https : http;
  const upstreamReq = transport.request(o.target, { method: req.method, headers: o.headers, agent: agents[o.target.protocol as 'http:' | 'https:'] });
  let settled = false;
  const fail = (code: Parameters<ForwardOptions['onFailure']>[0], cause?: unknown) => {
    if (settled) return;
    settled = true;
    upstreamReq.destroy();
    if (res.headersSent) res.destroy();
    else o.onFailure(code, cause);
  };

  upstreamReq.setTimeout(o.idleTimeoutMs, () => fail('upstream_timeout'));
  upstreamReq.on('error', (error) => fail('upstream_unavailable', error));
  upstreamReq.on('response', (upstreamRes) => {
    if (settled) return upstreamRes.resume();
    settled = true;
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, browserResponseHeaders(upstreamRes.headers, o.requestId, o.setCookies));
    res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
  });
  // The browser went away: stop the upstream work too.
  res.on('close', () => {
    if (res.writableFinished) return;
    settled = true;
    upstreamReq.destroy();
  });

  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > o.maxBodyBytes) {
      req.unpipe(upstreamReq);
      req.resume();
      fail('payload_too_large');
    }
  });
  req.pipe(upstreamReq);
}

/** WebSocket and other upgrades: handshake with the upstream, then splice the two sockets. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: OutgoingHttpHeaders, requestId: string): void {
  const transport = target.protocol === 'https:' ? https : http;
  const upstreamReq = transport.request(target, { method: req.method, headers });
  const reject = (status: number, text: string) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\nX-Request-Id: ${requestId}\r\n\r\n`);
  };
  upstreamReq.on('error', () => reject(502, 'Bad Gateway'));
  upstreamReq.on('response', (upstreamRes) => {
    // The upstream declined the upgrade: relay its answer as a plain response.
    const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage}`];
    for (const [name, value] of Object.entries(browserResponseHeaders(upstreamRes.headers, requestId, []))) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    socket.write(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`);
    upstreamRes.pipe(socket);
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
    const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`];
    for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) {
      const name = upstreamRes.rawHeaders[i];
      if (/^x-middleware-/i.test(name)) continue;
      lines.push(`${name}: ${upstreamRes.rawHeaders[i + 1]}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.pipe(socket).pipe(upstreamSocket);
    const close = () => {
      upstreamSocket.destroy();
      socket.destroy();
    };
    upstreamSocket.on('error', close);
    socket.on('error', close);
    upstreamSocket.on('close', close);
    socket.on('close', close);
  });
  upstreamReq.end();
}
