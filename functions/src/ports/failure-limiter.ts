import type { RateLimitScope } from '../core/route.js';

/** Whether another attempt may be made now, and if not, for how long it may not. */
export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterSec: number };

export const ALLOWED: LimitVerdict = { allowed: true };

/**
 * The FailureLimiter port: failed attempts (wrong password, unknown enrollment token, wrong device
 * secret) counted per scope and key in a window shared by every instance. It only gives verdicts;
 * the router and the services turn a refusal into a 429. The adapter is adapters/postgres/failure-limiter.ts.
 */
export interface FailureLimiter {
  /** `key` is the client address, or for login_account the address and the account. */
  check(scope: RateLimitScope, key: string): Promise<LimitVerdict>;
  /** Counts a failure; returns the failures in the current window (this one included). */
  recordFailure(scope: RateLimitScope, key: string): Promise<number>;
  /** Forgets the failures of a key (a successful login clears its account's count). */
  clear(scope: RateLimitScope, key: string): Promise<void>;
  /** The most failures a scope allows per window, and the window. */
  limitOf(scope: RateLimitScope): { failures: number; windowSec: number };
  /** Deletes buckets whose window has ended; returns how many. */
  prune(): Promise<number>;
}

/** Allows everything and counts nothing (tests of the router alone). */
export const noFailureLimiter: FailureLimiter = {
  check: async () => ALLOWED,
  recordFailure: async () => 0,
  clear: async () => {},
  limitOf: () => ({ failures: Number.POSITIVE_INFINITY, windowSec: 0 }),
  prune: async () => 0,
};
