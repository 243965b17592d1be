/**
 * What a stateless cookie store remembers to revoke sessions (SPEC §5): ended session ids, IdP
 * session ids (`sid`) and users (`sub`), each until the sessions it covers would have expired anyway.
 *
 * Strangers can feed it (front-channel logout carries no proof), so it is bounded in entries and
 * bytes (keys are fixed-size digests), and it is split by trust: entries that a proof stands
 * behind — a browser's own logout (it held the session cookie), a verified back-channel token, a
 * front-channel `sid` of a session this process has seen — live in their own space, which a flood
 * of unproven entries can never evict. Unproven entries push out only each other, oldest first.
 */
import { createHash } from 'node:crypto';
import { boundedMemo } from '../memo';

export type Trust = 'proven' | 'unproven';

interface Entry { revokedAt: number; until: number }

/** Bounded map, oldest first out, that forgets lapsed entries on the way. */
class BoundedEntries {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly maxEntries: number) {}

  add(key: string, entry: Entry, now: number) {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // Lapsed entries first: they go without loss.
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) return;
      if (e.until > now) break;
      this.entries.delete(k);
    }
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  get size() {
    return this.entries.size;
  }
}

/** A key is 22 characters whatever was sent: memory per entry does not depend on the input. */
const sha256Key = (kind: string, value: string) => createHash('sha256').update(kind).update('\u0000').update(value).digest('base64url').slice(0, 22);

/**
 * Every request of a cookie session asks about the same few ids; a session read from the seal
 * cache carries the very same strings each time, whose V8 hash is already known, so looking the
 * digest up costs far less than computing it again. Bounded: cleared whole when full.
 */
const DIGEST_MEMO_MAX = 30_000;
/** Longer values are hashed each time: not worth keeping (sids are capped at 512 anyway). */
const DIGEST_MEMO_KEY_MAX = 512;
const digests = {
  id: boundedMemo((value) => sha256Key('id', value), DIGEST_MEMO_MAX, DIGEST_MEMO_KEY_MAX),
  sid: boundedMemo((value) => sha256Key('sid', value), DIGEST_MEMO_MAX, DIGEST_MEMO_KEY_MAX),
  sub: boundedMemo((value) => sha256Key('sub', value), DIGEST_MEMO_MAX, DIGEST_MEMO_KEY_MAX),
};
const digest = (kind: 'id' | 'sid' | 'sub', value: string): string => digests[kind](value);

export interface RevocationLimits {
  /** Proven entries: one per logout a user or the IdP actually made. */
  proven: number;
  /** Unproven entries (front-channel logouts for sessions this process has not seen). */
  unproven: number;
  /** `sid`s of sessions this process has seen, to tell a real front-channel logout from noise. */
  known: number;
}

/** About 150 bytes per entry: at most ~20 MB for the proven, ~2 MB for the rest. */
export const DEFAULT_LIMITS: RevocationLimits = { proven: 100_000, unproven: 10_000, known: 100_000 };

export class RevocationList {
  private readonly spaces: Record<Trust, BoundedEntries>;
  /** `sid` digest → when a session with it was last seen (bounded, fed by valid sessions only). */
  private readonly knownSids: BoundedEntries;

  constructor(limits: RevocationLimits = DEFAULT_LIMITS) {
    this.spaces = { proven: new BoundedEntries(limits.proven), unproven: new BoundedEntries(limits.unproven) };
    this.knownSids = new BoundedEntries(limits.known);
  }

  /** A valid session was seen: a later front-channel logout of its `sid` counts as proven. */
  sawSid(sid: string, until: number, now: number) {
    const key = digest('sid', sid);
    if (!this.knownSids.get(key, now)) this.knownSids.add(key, { revokedAt: now, until }, now);
  }

  isKnownSid(sid: string, now: number): boolean {
    return this.knownSids.get(digest('sid', sid), now) !== undefined;
  }

  revoke(kind: 'id' | 'sid' | 'sub', value: string, trust: Trust, now: number, until: number) {
    this.spaces[trust].add(digest(kind, value), { revokedAt: now, until }, now);
  }

  /** Revoked when an entry exists, made at or after `createdAt`, that has not lapsed. */
  covers(kind: 'id' | 'sid' | 'sub', value: string, createdAt: number, now: number): boolean {
    if (this.spaces.proven.size === 0 && this.spaces.unproven.size === 0) return false; // the usual case
    const key = digest(kind, value);
    return (['proven', 'unproven'] as const).some((trust) => {
      const entry = this.spaces[trust].get(key, now);
      return entry !== undefined && entry.revokedAt >= createdAt;
    });
  }

  /** Entries held, for tests and metrics. */
  get sizes() {
    return { proven: this.spaces.proven.size, unproven: this.spaces.unproven.size, known: this.knownSids.size };
  }
}
