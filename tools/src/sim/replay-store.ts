/**
 * The cids a device has accepted, so the same envelope is never executed twice.
 *
 * Choice: a cid is remembered until its envelope could no longer pass the expiry check
 * (exp + clock skew), AND the most recent `keepAtLeast` (1,000) cids are kept even past that. The
 * expiry rule is what actually makes replays impossible - an envelope still inside its validity
 * window is never forgotten, however many commands arrive - and the last-1,000 rule covers a device
 * clock that jumps backwards and makes an old envelope look valid again. Memory stays bounded by
 * `capacity`: when that many cids are still inside their validity window the store refuses new
 * envelopes (fails closed) rather than forget one that could still be replayed.
 */
export type RememberOutcome = 'new' | 'seen' | 'full';

export class ReplayStore {
  /** cid -> the Unix second after which its envelope is expired anyway. Insertion-ordered. */
  readonly #validUntil = new Map<string, number>();

  constructor(
    readonly keepAtLeast = 1_000,
    readonly capacity = 10_000,
  ) {}

  get size(): number {
    return this.#validUntil.size;
  }

  has(cid: string): boolean {
    return this.#validUntil.has(cid);
  }

  /** Records `cid` unless it is already known; `validUntilSec` is the envelope's exp plus skew. */
  remember(cid: string, validUntilSec: number, nowSec: number): RememberOutcome {
    if (this.#validUntil.has(cid)) return 'seen';
    if (this.#validUntil.size >= this.keepAtLeast) this.#forgetExpired(nowSec);
    if (this.#validUntil.size >= this.capacity) return 'full';
    this.#validUntil.set(cid, validUntilSec);
    return 'new';
  }

  /**
   * Drops expired cids among the older entries only: the `keepAtLeast - 1` newest stay whatever
   * their expiry, so with the cid about to be added the newest `keepAtLeast` are always known.
   */
  #forgetExpired(nowSec: number): void {
    let candidates = this.#validUntil.size - (this.keepAtLeast - 1);
    for (const [cid, validUntil] of this.#validUntil) {
      if (candidates-- <= 0) break;
      if (validUntil < nowSec) this.#validUntil.delete(cid);
    }
  }
}
