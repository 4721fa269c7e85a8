/**
 * Instances, concurrency and database connections of each function. Every instance holds one pool,
 * so the database sees at most maxInstances x poolMax connections per function; the sum stays under
 * the Cloud SQL instance's max_connections (100 on a 3.75 GB instance, the smallest sensible tier)
 * with room for migrations and a psql session. Raise maxInstances together with the database tier.
 */
export interface FunctionPlan {
  maxInstances: number;
  minInstances: number;
  /** Requests one instance serves at once (Node serves I/O-bound requests concurrently). */
  concurrency: number;
  memory: '256MiB' | '512MiB' | '1GiB';
  cpu: number;
  poolMax: number;
  timeoutSeconds: number;
}

export const PLAN = {
  // The hot path: every device, every 5 minutes. One warm instance avoids a cold start for the first
  // heartbeats after a quiet spell; 80 concurrent requests per instance feed the group-commit writer,
  // which needs few connections (3 statements in flight + 1 for sessions).
  heartbeat: { maxInstances: 15, minInstances: 1, concurrency: 80, memory: '512MiB', cpu: 1, poolMax: 4, timeoutSeconds: 30 },
  // Enrollment, sessions (bcrypt in worker threads wants the CPU), command results, the APK.
  device: { maxInstances: 4, minInstances: 0, concurrency: 40, memory: '512MiB', cpu: 1, poolMax: 2, timeoutSeconds: 60 },
  // The admin API: a few operators; list and command queries.
  api: { maxInstances: 3, minInstances: 0, concurrency: 40, memory: '512MiB', cpu: 1, poolMax: 3, timeoutSeconds: 60 },
  // Signing and pushing command batches; a fleet-wide batch of 10,000 takes a few seconds.
  dispatch: { maxInstances: 4, minInstances: 0, concurrency: 4, memory: '512MiB', cpu: 1, poolMax: 2, timeoutSeconds: 300 },
  // The minute's sweep, self-healing and notifications: one at a time.
  tick: { maxInstances: 1, minInstances: 0, concurrency: 1, memory: '512MiB', cpu: 1, poolMax: 3, timeoutSeconds: 120 },
  // Daily upkeep.
  maintenance: { maxInstances: 1, minInstances: 0, concurrency: 1, memory: '512MiB', cpu: 1, poolMax: 2, timeoutSeconds: 540 },
} as const satisfies Record<string, FunctionPlan>;

export type FunctionName = keyof typeof PLAN;

/** The most connections all functions together can open. */
export const maxConnections = (plan: Record<string, FunctionPlan> = PLAN): number =>
  Object.values(plan).reduce((sum, f) => sum + f.maxInstances * f.poolMax, 0);
