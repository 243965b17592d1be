/**
 * A refresh grant whose answer the test decides (`answer`), that can be held mid-call (`hold`,
 * then `release`) to put a logout or another replica's write between the grant and its save.
 */
import type { RefreshGrant } from '../session/refresh';
import type { TestClock } from './memory-runtime';

export class ScriptedGrant {
  answer: 'ok' | 'rejected' | 'unavailable' = 'ok';
  /** Grants started, counted when they begin. */
  calls = 0;
  /** Grants currently held by `hold`. */
  waiting = 0;
  private gate: { promise: Promise<void>; open: () => void } | null = null;

  constructor(private readonly clock: TestClock, private readonly name = 'grant') {}

  /** Holds every grant from now on until `release()`. */
  hold() {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release() {
    this.gate?.open();
    this.gate = null;
  }

  readonly grant: RefreshGrant = async (tokens) => {
    const n = ++this.calls;
    if (this.gate) {
      this.waiting += 1;
      await this.gate.promise;
      this.waiting -= 1;
    }
    if (this.answer !== 'ok') return { ok: false, reason: this.answer };
    const now = this.clock.now();
    return { ok: true, tokens: { ...tokens, accessToken: `at-${this.name}-${n}`, refreshToken: `rt-${this.name}-${n}`, expiresAt: now + 300_000, refreshedAt: now } };
  };
}
