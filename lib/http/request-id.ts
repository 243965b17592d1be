/**
 * Correlation ids (SPEC §7): one id per request, in every log line, the error page, the
 * `ERROR_PATH` redirect and the `X-Request-Id` header sent upstream and back to the client.
 */
// node:crypto's own, not the global `crypto` Next replaces with a wrapper for its prerendering.
import { randomUUID } from 'node:crypto';

/** Printable ASCII without the space, 1 to 200 characters. */
const WELL_FORMED = /^[\x21-\x7E]{1,200}$/;

/**
 * The request's correlation id (SPEC §7): the incoming `X-Request-Id` when well-formed (printable
 * ASCII 0x21–0x7E, no spaces or control characters, 1–200 characters), else a new random UUID.
 *
 * Security: a kept id can still hold `<`, `"`, `&` or `%`; it is safe in headers and JSON logs,
 * but HTML output must escape it and URLs must percent-encode it, like any other client input.
 */
export function correlationId(incoming: string | null | undefined): string {
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}
