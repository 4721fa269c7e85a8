import type { RateLimitScope } from '../core/route.js';

/** Whether another attempt may be made now, and if not, for how long it may not. */
export type LimitVerdict = { allowed: true; count?: number } | { allowed: false; retryAfterSec: number; count?: number };

export const ALLOWED: LimitVerdict = { allowed: true };

/**
 * The FailureLimiter port: attempts that can fail (a password, an enrollment token, a device secret)
 * counted per scope and key in a window shared by every instance. Count, then work: attempt() counts
 * the attempt and answers in one atomic statement BEFORE the expensive check (bcrypt), so any number
 * of concurrent guesses cannot all pass a check made before any of them was counted. A success is
 * then un-counted (forgive) or the key cleared, so successes never use up the limit. It only gives
 * verdicts; the router and the services turn a refusal into a 429. The adapter is
 * adapters/postgres/failure-limiter.ts.
 */
export interface FailureLimiter {
  /**
   * Counts an attempt and returns whether it may go ahead: refused when the count, this attempt
   * included, is over the scope's limit (or `limit`, when given). `key` is the client address, or for
   * login_account the address and the account.
   */
  attempt(scope: RateLimitScope, key: string, limit?: number): Promise<LimitVerdict>;
  /** Takes back one attempt counted by attempt() that turned out not to be a failure. */
  forgive(scope: RateLimitScope, key: string): Promise<void>;
  /** Forgets the failures of a key (a successful login clears its account's count). */
  clear(scope: RateLimitScope, key: string): Promise<void>;
  /** The most failures a scope allows per window, and the window. */
  limitOf(scope: RateLimitScope): { failures: number; windowSec: number };
  /** Deletes buckets whose window has ended; returns how many. */
  prune(): Promise<number>;
}

/** Allows everything and counts nothing (tests of the router alone). */
export const noFailureLimiter: FailureLimiter = {
  attempt: async () => ALLOWED,
  forgive: async () => {},
  clear: async () => {},
  limitOf: () => ({ failures: Number.POSITIVE_INFINITY, windowSec: 0 }),
  prune: async () => 0,
};
