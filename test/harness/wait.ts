// The one way tests and the harness wait for something: poll a condition with a bounded deadline
// (never a sleep as synchronisation). Pauses grow from `minDelayMs` to `maxDelayMs` so a fast
// condition is seen at once and a slow one does not keep a 2-core runner busy.

import { sleep } from './processes';

export interface EventuallyOptions {
  /** Treat a throw from `check` as "not yet" and quote the last one at the deadline (readiness
   *  probes against a server that is still starting). Default: a throw ends the wait at once, so an
   *  assertion inside `check` fails fast. */
  retryErrors?: boolean;
  /** More for the timeout message: logs, the last observation. */
  detail?: () => string;
  /** First pause between checks. Default 20 ms. */
  minDelayMs?: number;
  /** Longest pause between checks. Default 250 ms. */
  maxDelayMs?: number;
}

/** Thrown by `eventually` when the deadline passes; anything else it throws came from `check`. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/**
 * Polls `check` until it returns something other than `undefined` or `false`, and resolves with
 * that; throws a `WaitTimeoutError` naming `what` once `timeoutMs` have passed.
 */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const maxDelay = options.maxDelayMs ?? 250;
  let lastError = '';
  for (let delay = options.minDelayMs ?? 20; ; delay = Math.min(delay * 2, maxDelay)) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (!options.retryErrors) throw error;
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      const detail = options.detail?.() ?? '';
      throw new WaitTimeoutError(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${detail ? `\n${detail}` : ''}`,
      );
    }
    await sleep(delay);
  }
}
