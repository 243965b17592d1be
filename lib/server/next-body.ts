/**
 * Bounds on a request body handed to Next.js (Gatehouse's own endpoints and pages). Next reads and
 * clones bodies itself, before any code of ours runs, so a chunked body (which declares no length)
 * or a body that never finishes would otherwise grow memory and hold a connection forever.
 *
 * The bytes are counted on the socket, next to Next's own reading, without consuming anything:
 * past `maxBytes` (plus chunk framing) or past `timeoutMs` from arrival the request is answered by
 * the caller (413 or 408) and the connection closed.
 */
import type { IncomingMessage } from 'node:http';
import type { Framing } from '../upstream/framing';

/** Chunk-size lines and CRLFs of a chunked body: generous, a 1 MB body in 1-byte chunks is refused anyway. */
const FRAMING_SLACK = 64 * 1024;

export interface NextBodyLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Called once, when the body is over the limit or late. */
  onViolation: (code: 'payload_too_large' | 'request_timeout') => void;
}

export function guardNextBody(req: IncomingMessage, framing: Framing, limits: NextBodyLimits): void {
  if (framing.kind === 'none' || req.complete) return;
  const socket = req.socket;
  const start = socket.bytesRead;
  let done = false;
  const stop = () => {
    done = true;
    clearTimeout(timer);
    socket.off('data', count);
    socket.off('close', stop);
  };
  const violate = (code: 'payload_too_large' | 'request_timeout') => {
    if (done) return;
    stop();
    limits.onViolation(code);
  };
  // bytesRead also counts what follows on a keep-alive socket; the listener goes when the body ends.
  const count = () => {
    if (socket.bytesRead - start > limits.maxBytes + FRAMING_SLACK) violate('payload_too_large');
  };
  const timer = setTimeout(() => violate('request_timeout'), limits.timeoutMs);
  socket.on('data', count);
  // A body nobody reads never ends: the connection closing ends the watch too.
  socket.once('close', stop);
  req.once('end', stop);
  req.once('close', stop);
}
