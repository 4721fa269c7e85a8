/**
 * The JobLeases port: which instance runs a periodic job (the sweep tick, maintenance) this interval,
 * when several instances share one database. `acquire` takes the job's lease, or renews it when this
 * instance already holds it, for `ttlMs`; it answers false while another instance holds an unexpired
 * lease. A holder that fails lets go at once (`release`), so the next run anywhere may retry.
 * The adapter is adapters/postgres/job-leases.ts.
 */
export interface JobLeases {
  /** This instance's name as a lease owner. */
  readonly owner: string;
  acquire(job: string, ttlMs: number): Promise<boolean>;
  release(job: string): Promise<void>;
  /** Lets go of every lease this instance holds (on shutdown, so another takes over at its next run). */
  releaseAll(): Promise<void>;
}

/** Every job runs every time (one process, nothing shared). */
export const noJobLeases: JobLeases = { owner: 'local', acquire: async () => true, release: async () => {}, releaseAll: async () => {} };
