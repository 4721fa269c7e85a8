/**
 * Which credential failed: a route's rate-limited sign-in (login, enroll, session) or a token on a
 * route that needs one.
 */
export const AUTH_FAILURE_SCOPES = ['login', 'enroll', 'session', 'admin_token', 'device_token', 'metrics_token'] as const;
export type AuthFailureScope = (typeof AUTH_FAILURE_SCOPES)[number];

/**
 * The AuthFailureLog port: counts authentication failures per scope, client address and minute, for
 * the audit log (audit/ moves each ended minute in as one entry). A flood of failures from one address
 * adds to one row a minute, never a row per attempt. The adapter is adapters/postgres/auth-failures.ts.
 */
export interface AuthFailureLog {
  /** Counts one failure now; never throws (a failure to count is logged by the adapter). */
  record(scope: AuthFailureScope, address: string): Promise<void>;
  /** Writes the counts an adapter holds in memory (before the audit takes ended minutes, and at shutdown). */
  flush(): Promise<void>;
}

export const noAuthFailureLog: AuthFailureLog = { record: async () => {}, flush: async () => {} };
