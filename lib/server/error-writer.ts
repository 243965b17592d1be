/**
 * The one error writer of the Node server (SPEC §7): what the request gets when the server itself
 * answers with an error (unreadable path, unknown host, body limits, upstream failures). Same
 * answer as the route handlers give (lib/http/responses.ts `errorAnswer`), written straight to
 * Node's response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError, type ErrorCode } from '../errors';
import type { Gatehouse } from '../gatehouse';
import { createContext } from '../http/context';
import { setCookieHeaders, type SetCookie } from '../http/cookies';
import { errorAnswer } from '../http/responses';
import { endLingering } from './node-http';

/** The few request headers an error answer reads (navigation or script, the correlation id). */
const DECISION_HEADERS = ['accept', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-site', 'sec-fetch-user', 'x-request-id', 'cookie', 'referer'];

export interface ErrorPlace {
  requestId: string;
  /** The ingress the request came in through (its path prefixes the error page's links). */
  ingressIndex?: number;
  cause?: unknown;
  /** Cookies the answer must still carry (a cleared or refreshed session cookie). */
  setCookies?: readonly SetCookie[];
}

/**
 * Answers once the bytes at hand have been parsed (a microtask later): when the rest of the packet
 * is malformed (a refused body framing often is), Node answers 400 itself, but only while no head
 * of ours has been written; a head written during parsing would be lost with the socket.
 */
export function writeError(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, code: ErrorCode, place: ErrorPlace): void {
  queueMicrotask(() => writeErrorNow(gh, req, res, code, place));
}

function writeErrorNow(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, code: ErrorCode, place: ErrorPlace): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const headers = new Headers();
  for (const name of DECISION_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  headers.set('x-request-id', place.requestId);
  const innerPath = (req.url ?? '/').split('?', 1)[0].slice(0, 256);
  const ctx = createContext(gh.config, { method: req.method ?? 'GET', innerPath, search: '', headers, ingressIndex: place.ingressIndex });
  const answer = errorAnswer(gh.config, ctx, new GatehouseError(code, { cause: place.cause }), { html: ctx.navigation, setCookies: place.setCookies });
  res.writeHead(answer.status, {
    ...answer.headers,
    'Cache-Control': 'no-store',
    'X-Request-Id': place.requestId,
    'Content-Length': String(Buffer.byteLength(answer.body)),
    ...(answer.setCookies.length > 0 ? { 'Set-Cookie': setCookieHeaders(answer.setCookies) } : {}),
  });
  endLingering(res, answer.body);
}
