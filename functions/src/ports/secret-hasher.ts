/**
 * The SecretHasher port: bcrypt for passwords and device secrets. The adapter
 * (adapters/workers/secret-hasher.ts) runs it off the event loop. bcryptjs is pure JavaScript: run on
 * the main thread, a burst of enrollments or session refreshes would hold up every heartbeat behind
 * it (seen: seconds of heartbeat latency while a fleet enrolled). A small pool of worker threads does
 * the hashing while the main thread keeps serving.
 */
export interface SecretHasher {
  hash(secret: string, rounds: number): Promise<string>;
  compare(secret: string, hash: string): Promise<boolean>;
  /**
   * compare() when there is a hash; otherwise the same work against a dummy hash of that cost and
   * false - so a caller cannot tell an unknown account from a wrong secret by the time it takes.
   */
  verify(secret: string, hash: string | undefined, dummyRounds: number): Promise<boolean>;
  /**
   * The same hasher with its jobs in a lane of their own: each lane has a bounded queue (a full one
   * fails the job with 503 and Retry-After) and device sessions go first, so a flood of admin sign-ins
   * cannot starve device sessions or enrollments.
   */
  lane(name: HashLane): SecretHasher;
  close(): Promise<void>;
}

/** Served in this order when a worker frees up. */
export const HASH_LANES = ['device', 'enrollment', 'other', 'admin'] as const;
export type HashLane = (typeof HASH_LANES)[number];
