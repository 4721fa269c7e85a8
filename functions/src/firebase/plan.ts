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

/** Below this DB_CONNECTION_LIMIT the functions cannot run (one connection per instance of each). */
export const MIN_CONNECTION_LIMIT = 10;

/** Connections kept free for migrations, a psql session and Cloud SQL's own (10 %, at least 2). */
export const reservedConnections = (limit: number): number => Math.max(2, Math.ceil(limit * 0.1));

const sumInstances = (plan: Record<string, FunctionPlan>) => Object.values(plan).reduce((s, f) => s + f.maxInstances, 0);

/**
 * The smallest DB_CONNECTION_LIMIT at which every function may scale to its planned maxInstances
 * with one connection each; below it each function runs on one instance (index.ts passes
 * maxInstances as `DB_CONNECTION_LIMIT < FULL_SCALE_LIMIT ? 1 : planned`, which the deploy resolves).
 */
export const FULL_SCALE_LIMIT = ((): number => {
  let limit = MIN_CONNECTION_LIMIT;
  while (limit - reservedConnections(limit) < sumInstances(PLAN)) limit++;
  return limit;
})();

/** The instances a function may scale to under a connection limit (see FULL_SCALE_LIMIT). */
export const instancesUnder = (fn: FunctionName, limit: number): number => (limit < FULL_SCALE_LIMIT ? 1 : PLAN[fn].maxInstances);

/**
 * Each function's pool under a connection limit (the database's max_connections, DB_CONNECTION_LIMIT).
 * What the limit leaves beyond the reserve is shared in proportion to the plan's own maxInstances x
 * poolMax (at 100, exactly the plan); when that would leave an instance without a connection, every
 * instance gets one and the rest is shared the same way. Never more than the requests an instance
 * serves at once (or the plan's own pool, for the sweep's parallel work). So sum(instances x poolMax) <= limit - reserve for any limit from MIN_CONNECTION_LIMIT.
 */
export function poolMaxUnder(fn: FunctionName, limit: number): number {
  if (!Number.isInteger(limit) || limit < MIN_CONNECTION_LIMIT) {
    throw new Error(`DB_CONNECTION_LIMIT must be a whole number of at least ${MIN_CONNECTION_LIMIT}, got ${limit}`);
  }
  const names = Object.keys(PLAN) as FunctionName[];
  const budget = limit - reservedConnections(limit);
  const weight = maxConnections();
  const share = (f: FunctionName, connections: number) =>
    Math.floor((connections * PLAN[f].maxInstances * PLAN[f].poolMax) / weight / instancesUnder(f, limit));
  const pool = names.every((f) => share(f, budget) >= 1)
    ? share(fn, budget)
    : 1 + share(fn, budget - names.reduce((s, f) => s + instancesUnder(f, limit), 0));
  return Math.min(pool, Math.max(PLAN[fn].poolMax, PLAN[fn].concurrency));
}

/** The most connections all functions together open under a connection limit. */
export const connectionsUnder = (limit: number): number =>
  (Object.keys(PLAN) as FunctionName[]).reduce((s, f) => s + instancesUnder(f, limit) * poolMaxUnder(f, limit), 0);
