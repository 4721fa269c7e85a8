import { sql } from 'kysely';
import { ALLOWED, type FailureLimiter, type LimitVerdict } from '../../ports/failure-limiter.js';
import type { RateLimitScope } from '../../core/route.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../ports/db.js';

/**
 * Counts failed attempts (wrong password, unknown enrollment token, wrong device secret) per scope and
 * client address in a fixed window, in PostgreSQL so the limit holds across instances. Successes are
 * not counted, so one provisioning station can enroll thousands of devices a minute from one address.
 */
export class PgFailureLimiter implements FailureLimiter {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly windowSec: number,
    private readonly limits: Record<RateLimitScope, number>,
  ) {}

  async check(scope: RateLimitScope, key: string): Promise<LimitVerdict> {
    const row = await this.db
      .selectFrom('rate_limits')
      .select(['failures', 'window_started_at'])
      .where('bucket', '=', bucket(scope, key))
      .executeTakeFirst();
    if (!row || row.failures < this.limits[scope]) return ALLOWED;
    const endsMs = row.window_started_at.getTime() + this.windowSec * 1000;
    const leftMs = endsMs - this.clock.now().getTime();
    return leftMs > 0 ? { allowed: false, retryAfterSec: Math.ceil(leftMs / 1000) } : ALLOWED;
  }

  /** Counts a failure; returns the failures in the current window (this one included). */
  async recordFailure(scope: RateLimitScope, key: string): Promise<number> {
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
      .returning('failures')
      .executeTakeFirstOrThrow();
    return row.failures;
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

const bucket = (scope: RateLimitScope, ip: string) => `${scope}:${ip}`;
