/**
 * What every request leaves behind once answered (SPEC §11): one access-log line when
 * `ACCESS_LOG=true`, and the request metrics. `route` is a bounded label (`/oauth2/<endpoint>`, an
 * upstream's configured prefix, or `app`), never the raw path, so label cardinality stays bounded
 * whatever clients send.
 */
import { AsyncResource } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../log';
import { metrics } from '../metrics';
import { ROUTES } from '../routes';

export interface RequestRecord {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  /** Bytes written to the client's connection for this answer, headers included. */
  bytes: number;
  /** The upstream's configured prefix, when the request was forwarded. */
  upstream?: string;
}

const KNOWN_ROUTES = new Set<string>(Object.values(ROUTES));
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `/oauth2/<endpoint>` for Gatehouse's own endpoints (`/oauth2/other` for anything else below it). */
export const oauth2Route = (innerPath: string) => (KNOWN_ROUTES.has(innerPath) ? innerPath : '/oauth2/other');

/** A method label from a closed set: clients may send any token. */
export const methodLabel = (method: string | undefined) => (method && METHODS.has(method) ? method : 'OTHER');

export const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

/**
 * Calls back once the answer has gone out (or the client went away), with the record of it.
 * `describe` is asked then, so the route and upstream can be decided while the request is served.
 */
export function whenDone(req: IncomingMessage, res: ServerResponse, describe: () => { route: string; upstream?: string }, accessLog: boolean): void {
  const started = performance.now();
  // req.socket is null once the response is detached from it (a 'close' after an upgrade or a
  // destroyed connection): keep the socket itself, whose count survives that.
  const socket = req.socket;
  const bytesBefore = socket.bytesWritten;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    const { route, upstream } = describe();
    const record: RequestRecord = {
      method: methodLabel(req.method),
      route,
      status: res.headersSent ? res.statusCode : 0,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      bytes: Math.max(0, socket.bytesWritten - bytesBefore),
      upstream,
    };
    const labels = { route: record.route, method: record.method, status: record.status ? statusClass(record.status) : 'aborted' };
    metrics.httpRequests.inc(labels);
    metrics.httpRequestDuration.observe(labels, record.durationMs / 1000);
    if (accessLog) log.info('request', { method: record.method, route: record.route, status: record.status, duration_ms: record.durationMs, bytes: record.bytes, upstream: record.upstream });
  };
  // 'finish' and 'close' fire from the socket, outside the request's context: with the access log
  // on, bind the report to it so the line carries the request's correlation_id (lib/log.ts).
  const done = accessLog ? AsyncResource.bind(report) : report;
  res.once('finish', done);
  res.once('close', done);
}
