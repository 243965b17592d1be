/**
 * SPEC §7 login rate limit, as Wonderwall: a browser with a valid session that starts more than 5
 * logins within 5 s gets 429. Browsers without a session are never limited by this rule. Keyed by
 * session id (only valid sessions get here), bounded in sessions and in starts per session.
 */
import { processWide } from '../process-wide';

const WINDOW_MS = 5_000;
const MAX_IN_WINDOW = 5;
const MAX_TRACKED = 10_000;

export class LoginRateLimiter {
  private readonly starts = new Map<string, number[]>();

  allow(sessionId: string, now: number): boolean {
    const recent = (this.starts.get(sessionId) ?? []).filter((t) => now - t < WINDOW_MS);
    recent.push(now);
    // Only whether the window holds more than the limit matters: keep no more than that.
    if (recent.length > MAX_IN_WINDOW + 1) recent.splice(0, recent.length - MAX_IN_WINDOW - 1);
    this.starts.delete(sessionId);
    this.starts.set(sessionId, recent);
    if (this.starts.size > MAX_TRACKED) this.starts.delete(this.starts.keys().next().value!);
    return recent.length <= MAX_IN_WINDOW;
  }
}

export const loginRateLimiter = processWide('login-rate-limit', () => new LoginRateLimiter());
