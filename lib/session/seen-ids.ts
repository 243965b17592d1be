/**
 * Replay protection in this process (the cookie store's `firstUse`): ids remembered until they
 * lapse. Only ids that passed a signature check get here, so the memory is bounded rather than
 * evicting: when full of live entries it says so (the caller refuses, the IdP retries) instead of
 * forgetting one, which would let its replay through.
 */
import { createHash } from 'node:crypto';
import type { FirstUse } from './store';

export class SeenIds {
  /** Digest of the id → until when; entries go in with about the same lifetime, so the oldest lapse first. */
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  firstUse(id: string, untilMs: number, now: number): FirstUse {
    for (const [key, until] of this.entries) {
      if (until >= now) break;
      this.entries.delete(key);
    }
    const key = createHash('sha256').update(id).digest('base64url');
    if (this.entries.has(key)) return 'replayed';
    if (this.entries.size >= this.maxEntries) return 'full';
    this.entries.set(key, untilMs);
    return 'first';
  }
}
