/**
 * What each span says (SPEC §11), as pure functions of plain values. Names are the OpenTelemetry
 * semantic conventions' stable ones, plus a few `gatehouse.*` of Gatehouse's own.
 *
 * What never goes in: headers (cookies and the Bearer token travel there), query strings (the
 * callback's `code` and `state`), Redis arguments (keys name sessions, values are sealed session
 * data) and error messages from the IdP or Redis. URLs are origin and path only.
 */
import type { Attributes } from '@opentelemetry/api';

/** Longest path kept in `url.path`: a request line may be 16 KB, a span need not be. */
export const MAX_PATH_LENGTH = 1024;

/** The path of a request target, without its query or fragment, at most MAX_PATH_LENGTH characters. */
export function pathOnly(target: string): string {
  const end = target.search(/[?#]/);
  return (end < 0 ? target : target.slice(0, end)).slice(0, MAX_PATH_LENGTH);
}

/** Origin and path of a URL: what `url.full` holds (never userinfo, query or fragment). */
export function urlWithoutQuery(url: URL): string {
  return `${url.origin}${pathOnly(url.pathname)}`;
}

/** The port a URL names, or its scheme's default. */
export const portOf = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

export interface ServerRequest {
  /** The bounded method label of lib/server/request-done.ts (`OTHER` for anything unusual). */
  method: string;
  /** The bounded route label of the metrics: `/oauth2/<endpoint>`, an upstream prefix, `app`, `invalid`. */
  route: string;
  /** The request target as received (its query is dropped here). */
  target: string;
  correlationId: string;
  httpVersion: string;
  clientAddress?: string;
}

/** `GET /oauth2/callback`, `POST /api`, `GET app`: method and bounded route, never the raw path. */
export const serverSpanName = (r: Pick<ServerRequest, 'method' | 'route'>) => `${r.method} ${r.route}`;

export function serverAttributes(r: ServerRequest): Attributes {
  return {
    'http.request.method': r.method,
    'http.route': r.route,
    'url.path': pathOnly(r.target),
    'network.protocol.version': r.httpVersion,
    'gatehouse.correlation_id': r.correlationId,
    ...(r.clientAddress ? { 'client.address': r.clientAddress } : {}),
  };
}

/** A call to an upstream or the IdP: method and where, without the query. */
export function clientAttributes(method: string, url: URL): Attributes {
  return {
    'http.request.method': method,
    'server.address': url.hostname,
    'server.port': portOf(url),
    'url.full': urlWithoutQuery(url),
  };
}

/** An upstream route's span name: `upstream /api`. */
export const upstreamSpanName = (prefix: string | undefined) => (prefix ? `upstream ${prefix}` : 'upstream');

/** `idp token`, `idp jwks`, … (the operations of `gatehouse_idp_request_duration_seconds`). */
export const idpSpanName = (operation: string) => `idp ${operation}`;

/** What ioredis says of a command (its tracing channel's context); the arguments are never read. */
export interface RedisCommand {
  command: string;
  database: number;
  serverAddress: string;
  serverPort: number | undefined;
}

export function redisAttributes(c: RedisCommand): Attributes {
  return {
    'db.system.name': 'redis',
    'db.operation.name': c.command.toUpperCase(),
    'db.namespace': String(c.database),
    'server.address': c.serverAddress,
    ...(c.serverPort ? { 'server.port': c.serverPort } : {}),
  };
}

/** The span name of a Redis command: the command (`GET`, `SET`, `EVAL`), as the conventions ask. */
export const redisSpanName = (c: Pick<RedisCommand, 'command'>) => c.command.toUpperCase();

/**
 * Whether a status ends a span in error: 5xx for the server span; for a call Gatehouse makes, any
 * 4xx too (the semantic conventions' rule for client spans).
 */
export const isErrorStatus = (status: number, kind: 'server' | 'client') => status >= (kind === 'server' ? 500 : 400);

/** The status line's code at the start of what Gatehouse writes on an upgrade socket (`HTTP/1.1 101 …`). */
export function statusOfRawAnswer(chunk: unknown): number | undefined {
  const head = typeof chunk === 'string' ? chunk.slice(0, 16) : Buffer.isBuffer(chunk) ? chunk.subarray(0, 16).toString('latin1') : '';
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  return match ? Number(match[1]) : undefined;
}
