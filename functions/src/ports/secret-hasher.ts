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
  close(): Promise<void>;
}
