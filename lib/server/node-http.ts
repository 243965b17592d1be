/**
 * Small bridges between Node's `http` objects and the web-standard types the actions use.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** A read-only view of Node's (lowercased) request headers, without copying them into a `Headers`. */
export const headerReader = (raw: IncomingHttpHeaders) => ({
  get: (name: string): string | null => {
    const value = raw[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  },
});

/** A `Headers` copy of the few request headers an error answer reads. */
export function decisionHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const name of ['accept', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-site', 'sec-fetch-user', 'x-request-id', 'cookie', 'referer']) {
    const value = raw[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  return headers;
}

/** Writes a (small, fully built) web `Response` to a Node response. */
export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  endLingering(res, body);
}

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
