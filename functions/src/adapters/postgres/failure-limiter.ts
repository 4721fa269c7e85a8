import { sql } from 'kysely';
import type { FailureLimiter, LimitVerdict } from '../../ports/failure-limiter.js';
import type { RateLimitScope } from '../../core/route.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../ports/db.js';

/**
 * Counts attempts that can fail (a password, an enrollment token, a device secret) per scope and key
 * in a fixed window, in PostgreSQL so the limit holds across instances. Count, then work: attempt()
 * is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING that increments the bucket (or starts a new
 * window) and returns the new count, so concurrent attempts are serialised on the row and exactly the
 * first `limit` of them are allowed. A success is un-counted (forgive) or its key cleared, so one
 * provisioning station can still enroll thousands of devices a minute from one address.
 */
export class PgFailureLimiter implements FailureLimiter {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly windowSec: number,
    private readonly limits: Record<RateLimitScope, number>,
  ) {}

  async attempt(scope: RateLimitScope, key: string, limit = this.limits[scope]): Promise<LimitVerdict> {
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - this.windowSec * 1000);
    const row = await this.db
      .insertInto('rate_limits')
      .values({ bucket: bucket(scope, key), window_started_at: now, failures: 1 })
      .onConflict((oc) =>
        oc.column('bucket').doUpdateSet({
          failures: sql`case when rate_limits.window_started_at <= ${windowStart} then 1 else rate_limits.failures + 1 end`,
          window_started_at: sql`case when rate_limits.window_started_at <= ${windowStart} then ${now} else rate_limits.window_started_at end`,
        }),
      )
      .returning(['failures', 'window_started_at'])
      .executeTakeFirstOrThrow();
    const count = row.failures;
    if (count <= limit) return { allowed: true, count };
    const leftMs = row.window_started_at.getTime() + this.windowSec * 1000 - now.getTime();
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(leftMs / 1000)), count };
  }

  async forgive(scope: RateLimitScope, key: string): Promise<void> {
    await this.db
      .updateTable('rate_limits')
      .set({ failures: sql`greatest(failures - 1, 0)` })
      .where('bucket', '=', bucket(scope, key))
      .execute();
  }

  /** Forgets the failures of a key (a successful login clears its account's count). */
  async clear(scope: RateLimitScope, key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('bucket', '=', bucket(scope, key)).execute();
  }

  /** The most failures a scope allows per window, and the window. */
  limitOf(scope: RateLimitScope): { failures: number; windowSec: number } {
    return { failures: this.limits[scope], windowSec: this.windowSec };
  }

  /** Deletes buckets whose window has ended. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.windowSec * 1000);
    const result = await this.db.deleteFrom('rate_limits').where('window_started_at', '<=', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

const bucket = (scope: RateLimitScope, key: string) => `${scope}:${key}`;
