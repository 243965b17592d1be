// Transport for the test HTTP client: node:http, not global fetch. Node's fetch (undici) always
// sends `Sec-Fetch-Mode: cors`, overwriting any value given, so a fetch() can never look like a
// navigation to Gatehouse (SPEC §3 decides navigation vs. fetch by Sec-Fetch-*). `httpRequest`
// sends exactly the headers it is given and returns a standard (streaming) Response.

import { Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

type RequestBody = string | URLSearchParams | Uint8Array | ArrayBuffer | null | undefined;

function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('httpRequest: body must be a string, URLSearchParams, Uint8Array or ArrayBuffer');
}

/** One HTTP/1.1 request with exactly the given headers (plus Host, and Content-Length for a
 *  body), no redirect following, no decompression. Returns a standard Response whose body streams
 *  (server-sent events arrive chunk by chunk). Use it instead of fetch() whenever the request
 *  headers matter (Sec-Fetch-*, Accept-Encoding). */
export function httpRequest(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`unsupported URL ${u.href}`);
  const method = (init.method ?? 'GET').toUpperCase();
  const payload = bodyBytes(init.body as RequestBody);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => {
    headers[k] = v;
  });
  if (payload && headers['content-length'] === undefined) headers['content-length'] = String(payload.length);
  const transport = u.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = transport.request(u, { method, headers, signal: init.signal ?? undefined }, (res) => {
      const out = new Headers();
      for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      const status = res.statusCode ?? 0;
      const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
      if (noBody) res.resume();
      const body = noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      const response = new Response(body, { status, statusText: res.statusMessage, headers: out });
      Object.defineProperty(response, 'url', { value: u.href });
      resolve(response);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Headers Chromium sends on a top-level navigation; Gatehouse decides navigation vs fetch by them. */
export const NAVIGATION_HEADERS: Record<string, string> = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'sec-fetch-site': 'none',
  'sec-fetch-user': '?1',
};

/** Headers of a `fetch()` from page script (not a navigation). */
export const FETCH_HEADERS: Record<string, string> = {
  accept: 'application/json',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
  'sec-fetch-site': 'same-origin',
};
