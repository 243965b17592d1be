/**
 * Headers that belong to one connection or to Next.js internals (RFC 9110 §7.6.1): never forwarded
 * in either direction.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers and proxy credentials. Framing (`Transfer-Encoding`) is set anew per hop. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Next.js internals a client could send to steer routing (CVE-2025-29927 used the first). */
export const NEXT_INTERNAL = /^(x-middleware-|x-nextjs-|x-invoke-|x-gatehouse-|next-router-|x-now-|x-vercel-)/;

/** What most messages name in `Connection`: nothing beyond the hop-by-hop headers above. */
const NOTHING_MORE: ReadonlySet<string> = new Set();

/**
 * Headers the sender declared hop-by-hop by naming them in `Connection`. The framing headers are
 * never among them: naming `Content-Length` must not make a body lose its length (request smuggling).
 */
export function connectionNamed(headers: IncomingHttpHeaders): ReadonlySet<string> {
  const value = headers.connection;
  // No Connection header, or the usual `keep-alive` (itself hop-by-hop): no Set built per message.
  if (value === undefined || value === 'keep-alive') return NOTHING_MORE;
  const named = new Set(typeof value === 'string' ? value.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean) : []);
  named.delete('content-length');
  named.delete('transfer-encoding');
  return named;
}
