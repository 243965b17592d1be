/**
 * Small helpers over Node's `http` objects: a header view for the pure decisions, and ending an answer
 * without losing it to a reset.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** A read-only view of Node's (lowercased) request headers, without copying them into a `Headers`. */
export const headerReader = (raw: IncomingHttpHeaders) => ({
  get: (name: string): string | null => {
    const value = raw[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  },
});

/** Ends `res`, but while the request body is still arriving only once it has been read (bounded):
 *  closing earlier makes the client's kernel drop the answer on our reset. */
export function endLingering(res: ServerResponse, body?: string | Buffer): void {
  const req = res.req;
  if (!req || req.complete || req.destroyed) return void res.end(body);
  if (body !== undefined) res.write(body);
  req.resume();
  const done = () => {
    clearTimeout(timer);
    res.end();
  };
  const timer = setTimeout(done, 10_000);
  req.once('end', done);
  req.once('close', done);
}
