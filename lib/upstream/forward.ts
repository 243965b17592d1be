/**
 * The upstream transport: a plain Node reverse proxy (SPEC §4 items 5 and 6). Bodies stream both
 * ways with no buffering or compression (server-sent events arrive chunk by chunk) and explicit
 * framing; a body over the limit gets 413 and the upstream request is aborted, never completed
 * truncated; a request that waits for a pooled connection or an idle upstream gets 504 after the
 * timeout, an unreachable one 502.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../errors';
import { metrics, type UpstreamOutcome } from '../metrics';
import { traceUpstreamCall } from '../tracing-spans';
import { requestFraming } from './framing';
import { browserResponseHeaders, type BrowserResponseOptions } from './response-headers';

/** Keep-alive pools, one per scheme; `maxSockets` bounds connections per upstream origin. */
export interface UpstreamAgents { 'http:': http.Agent; 'https:': https.Agent }

export const createUpstreamAgents = (maxSockets: number): UpstreamAgents => ({
  'http:': new http.Agent({ keepAlive: true, maxSockets }),
  'https:': new https.Agent({ keepAlive: true, maxSockets }),
});

export type ForwardFailure = Extract<ErrorCode, 'bad_request' | 'payload_too_large' | 'upstream_unavailable' | 'upstream_timeout'>;

export interface ForwardOptions {
  target: URL;
  headers: OutgoingHttpHeaders;
  agents: UpstreamAgents;
  maxBodyBytes: number;
  /** From arrival until a pooled connection is free, and then idle time on that connection. */
  timeoutMs: number;
  /** How the answer's headers are made safe for the browser (our cookies, URL mapping). */
  response: BrowserResponseOptions;
  /** Called instead of answering when forwarding fails before the upstream answered. */
  onFailure: (code: ForwardFailure, cause?: unknown) => void;
  /**
   * The route's configured prefix: the `upstream` label of
   * `gatehouse_upstream_request_duration_seconds`. Without it nothing is recorded.
   */
  upstream?: string;
}

const OUTCOME_OF_FAILURE: Record<Exclude<ForwardFailure, 'bad_request'>, UpstreamOutcome> = {
  upstream_timeout: 'timeout',
  upstream_unavailable: 'refused',
  payload_too_large: 'too_large',
};

/**
 * What `http.request(url, options)` would derive from the URL, as one plain object: Node's own
 * conversion makes a prototype-less object, which V8 keeps in dictionary mode, and `ClientRequest`
 * and the agent then read some thirty properties from it slowly on every request.
 */
function requestOptions(target: URL, method: string | undefined, headers: OutgoingHttpHeaders, agent: http.Agent | false): http.RequestOptions {
  // No credentials to carry: configuration refuses upstream URLs with them (lib/config-values.ts).
  const { hostname, port } = target;
  return {
    protocol: target.protocol,
    hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
    port: port === '' ? undefined : Number(port),
    path: `${target.pathname}${target.search}`,
    method,
    headers,
    agent,
  };
}

export function forward(req: IncomingMessage, res: ServerResponse, o: ForwardOptions): void {
  const started = performance.now();
  const framing = requestFraming(req.headers);
  if (framing.kind === 'ambiguous') {
    req.resume();
    return o.onFailure('bad_request', new Error(framing.reason)); // no upstream request: not recorded
  }
  // The client's connection closed while the gate decided (Node answers bytes after a request that
  // do not parse with a 400 and closes): nobody would get the answer, so nothing is forwarded.
  if (res.destroyed || req.socket?.destroyed) return void req.resume(); // no upstream request: not recorded
  const span = traceUpstreamCall(o.target, req.method, o.headers, o.upstream); // a span, and traceparent in o.headers, while tracing is on
  // Time to the upstream's response headers, or to the failure; once per request.
  const record = (outcome: UpstreamOutcome, status?: number) => {
    span.end(outcome, status);
    if (o.upstream) metrics.upstreamRequestDuration.observe({ upstream: o.upstream, outcome }, (performance.now() - started) / 1000);
  };
  if (framing.kind === 'length' && framing.length > o.maxBodyBytes) {
    req.resume(); // drain what the client is sending so it can read our answer
    record('too_large');
    return o.onFailure('payload_too_large');
  }
  const transport = o.target.protocol === 'https:' ? https : http;
  const upstreamReq = transport.request(requestOptions(o.target, req.method, o.headers, o.agents[o.target.protocol as keyof UpstreamAgents]));
  let settled = false;
  // The socket's idle timeout starts only once the pool hands out a socket: bound the wait before.
  // A pooled connection that was free is handed out at once (`reusedSocket`): nothing to wait for.
  const queued = upstreamReq.reusedSocket ? undefined : setTimeout(() => fail('upstream_timeout'), o.timeoutMs);
  if (queued) upstreamReq.once('socket', () => clearTimeout(queued));
  const fail = (code: Exclude<ForwardFailure, 'bad_request'>, cause?: unknown) => {
    if (settled) return;
    settled = true;
    record(OUTCOME_OF_FAILURE[code]);
    clearTimeout(queued);
    req.unpipe(upstreamReq);
    upstreamReq.destroy();
    if (res.headersSent) res.destroy();
    else o.onFailure(code, cause);
  };

  upstreamReq.setTimeout(o.timeoutMs, () => fail('upstream_timeout'));
  upstreamReq.on('error', (error) => fail('upstream_unavailable', error));
  upstreamReq.on('response', (upstreamRes) => {
    if (settled) return upstreamRes.resume();
    settled = true;
    record('ok', upstreamRes.statusCode);
    clearTimeout(queued);
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, browserResponseHeaders(upstreamRes.headers, o.response));
    // A streamed answer (server-sent events, long polls) shows its headers at once; a sized one
    // sends them with its first bytes, in one write instead of two.
    if (upstreamRes.headers['content-length'] === undefined) res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
  });
  // The browser went away: stop the upstream work too.
  res.on('close', () => {
    if (res.writableFinished) return;
    if (!settled) record('aborted');
    settled = true;
    clearTimeout(queued);
    upstreamReq.destroy();
  });

  // No framing, no body (Node's parser reads the next bytes as the next request): nothing to stream.
  if (framing.kind === 'none') return void upstreamReq.end();
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > o.maxBodyBytes) {
      req.resume();
      fail('payload_too_large');
    }
  });
  req.pipe(upstreamReq);
}

export interface UpgradeOptions {
  target: URL;
  headers: OutgoingHttpHeaders;
  timeoutMs: number;
  response: BrowserResponseOptions;
}

/** Writes a complete, bodiless HTTP/1.1 answer on a socket that is not (or no longer) HTTP. */
export const rejectUpgrade = (socket: Duplex, status: number, text: string, requestId: string) =>
  void socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\nCache-Control: no-store\r\nX-Request-Id: ${requestId}\r\n\r\n`);

/**
 * WebSocket and other upgrades: handshake with the upstream, then splice the two sockets. A fresh
 * connection each (`agent: false`): a socket that carried an upgrade attempt is never reused for
 * another request. Callers refuse handshakes that carry a body.
 */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, o: UpgradeOptions): void {
  const { requestId } = o.response;
  const transport = o.target.protocol === 'https:' ? https : http;
  const span = traceUpstreamCall(o.target, req.method, o.headers); // a span, and traceparent in o.headers, while tracing is on
  const upstreamReq = transport.request(requestOptions(o.target, req.method, o.headers, false));
  let answered = false;
  const reject = (status: number, text: string) => {
    if (answered) return;
    answered = true;
    span.end(status === 504 ? 'timeout' : 'refused');
    upstreamReq.destroy();
    rejectUpgrade(socket, status, text, requestId);
  };
  upstreamReq.setTimeout(o.timeoutMs, () => reject(504, 'Gateway Timeout'));
  upstreamReq.on('error', () => reject(502, 'Bad Gateway'));
  socket.on('close', () => upstreamReq.destroy());
  upstreamReq.on('response', (upstreamRes) => {
    // The upstream declined the upgrade: relay its answer as a plain response, then close.
    answered = true;
    span.end('ok', upstreamRes.statusCode);
    const lines = [`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage}`];
    for (const [name, value] of Object.entries(browserResponseHeaders(upstreamRes.headers, o.response))) {
      if (name === 'content-length') continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    socket.write(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`);
    upstreamRes.pipe(socket);
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
    answered = true;
    span.end('ok', 101);
    upstreamReq.setTimeout(0);
    const headers = browserResponseHeaders(upstreamRes.headers, o.response);
    const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`, 'Connection: Upgrade', `Upgrade: ${upstreamRes.headers.upgrade ?? 'websocket'}`];
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
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
    upstreamSocket.on('close', close);
    socket.on('close', close);
  });
  upstreamReq.end();
}
