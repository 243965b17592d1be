// The "Node ceiling", run as its own process (`node --import tsx bench/ceiling.ts`): the least a
// Node session proxy can do per request, so the bench can say how close Gatehouse comes to it.
// Per request: one Redis GET of the session (AES-256-GCM ciphertext, ~1 KB), one decrypt with
// node:crypto, JSON.parse, `Authorization: Bearer <token>`, and the request and the answer
// streamed through a keep-alive agent to the bench upstream. No refresh, no auto-login, no header
// policy, no logging: everything Gatehouse does beyond that is what the ratio to this measures.
//
// Environment (set by bench/setup.ts):
//   CEILING_UPSTREAM    origin of the bench upstream, e.g. http://127.0.0.1:4000
//   CEILING_REDIS_PORT  the bench's redis-server on 127.0.0.1
//   CEILING_KEY         the 32-byte AES key, base64url
// The session format (cookie, Redis key, sealing) is bench/ceiling-session.ts. Prints {"port"} on
// stdout once Redis is ready.

import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Redis } from 'ioredis';
import { CEILING_COOKIE, ceilingSessionKey, openAccessToken } from './ceiling-session';
import { serveOnFreePort } from './serve';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench ceiling: ${name} is not set`);
  return value;
}

/** The value of the `ceiling` cookie, or undefined. */
function sessionId(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === CEILING_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function main() {
  const upstream = new URL(required('CEILING_UPSTREAM'));
  const key = Buffer.from(required('CEILING_KEY'), 'base64url');
  const redis = new Redis(Number(required('CEILING_REDIS_PORT')), '127.0.0.1', { maxRetriesPerRequest: 1 });
  redis.on('error', (error) => console.error(`bench ceiling: redis: ${error.message}`));
  // The same pool shape as Gatehouse's (lib/upstream/forward.ts, UPSTREAM_MAX_CONNECTIONS default).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

  const server = http.createServer(async (req, res) => {
    const fail = (status: number) => {
      req.resume();
      if (!res.headersSent) res.writeHead(status, { 'content-length': 0 }).end();
      else res.destroy();
    };
    const id = sessionId(req);
    let token: string;
    try {
      const sealed = id ? await redis.getBuffer(ceilingSessionKey(id)) : null;
      if (!sealed) return fail(401);
      token = openAccessToken(key, sealed);
    } catch {
      return fail(503);
    }
    const headers: OutgoingHttpHeaders = { ...req.headers, host: upstream.host, authorization: `Bearer ${token}` };
    delete headers.cookie;
    delete headers.connection;
    const upstreamReq = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent },
      (upstreamRes) => {
        const answer = { ...upstreamRes.headers };
        delete answer.connection;
        delete answer['keep-alive'];
        res.writeHead(upstreamRes.statusCode ?? 502, answer);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', () => fail(502));
    req.pipe(upstreamReq);
  });
  // Announce the port only once Redis answers, so the first request is not queued behind the connect.
  redis.once('ready', () => serveOnFreePort(server, () => redis.disconnect()));
}

main();
