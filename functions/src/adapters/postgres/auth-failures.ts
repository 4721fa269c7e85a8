import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { AuthFailureLog, AuthFailureScope } from '../../ports/auth-failures.js';
import type { Db } from '../../ports/db.js';
import type { Logger } from '../../ports/logger.js';

/** One row per scope, address and minute in `auth_failures`, shared by every instance on the database. */
export class PgAuthFailureLog implements AuthFailureLog {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async record(scope: AuthFailureScope, address: string): Promise<void> {
    const now = this.clock.now();
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    try {
      await this.db
        .insertInto('auth_failures')
        .values({ scope, address: address.slice(0, 64), minute, failures: 1 })
        .onConflict((oc) => oc.columns(['minute', 'scope', 'address']).doUpdateSet({ failures: sql`auth_failures.failures + 1` }))
        .execute();
    } catch (err) {
      this.logger.warn('could not count an authentication failure for the audit log', { scope, err });
    }
  }
}
