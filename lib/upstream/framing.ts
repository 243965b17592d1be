/**
 * Request framing toward upstreams (SPEC §4 item 5): how the body of a forwarded request is
 * delimited. Pure; the transport sets exactly the headers this decides.
 *
 * Why it is explicit: Node's `http.request()` does not chunk bodies of GET, HEAD, DELETE and
 * OPTIONS by default, so a body forwarded without its framing header goes out raw and the upstream
 * reads it as a second request (request smuggling). Framing is decided here from the client's
 * headers as Node's parser read them, and `Connection` never removes it.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export type Framing =
  /** No body: neither `Content-Length` nor `Transfer-Encoding`. */
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** Two framings at once, or a transfer coding other than plain `chunked`: refused with 400. */
  | { kind: 'ambiguous'; reason: string };

/**
 * The framing of a client request (RFC 9112 §6). Node's parser already refuses most conflicts;
 * this is the second, explicit line, so no variant Node tolerates (`chunked, identity`, a coding
 * list, a `Content-Length` next to `Transfer-Encoding`) reaches an upstream.
 */
export function requestFraming(headers: IncomingHttpHeaders): Framing {
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) return { kind: 'ambiguous', reason: 'both Transfer-Encoding and Content-Length' };
    // Node joins repeated header lines with ", ": two lines read as a coding list, refused too.
    if (te.trim().toLowerCase() !== 'chunked') return { kind: 'ambiguous', reason: `unsupported Transfer-Encoding "${te.slice(0, 40)}"` };
    return { kind: 'chunked' };
  }
  if (cl === undefined) return { kind: 'none' };
  if (!/^\d{1,15}$/.test(cl)) return { kind: 'ambiguous', reason: 'malformed Content-Length' };
  return { kind: 'length', length: Number(cl) };
}

/** Sets the framing headers of the forwarded request; any others were removed before. */
export function applyFraming(out: OutgoingHttpHeaders, framing: Framing): void {
  delete out['content-length'];
  delete out['transfer-encoding'];
  if (framing.kind === 'length') out['content-length'] = String(framing.length);
  if (framing.kind === 'chunked') out['transfer-encoding'] = 'chunked';
}
