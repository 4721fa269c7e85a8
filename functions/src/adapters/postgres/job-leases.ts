import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../ports/db.js';
import type { JobLeases } from '../../ports/job-leases.js';

/**
 * Job leases in PostgreSQL (table job_leases): one atomic statement takes a free or expired lease, or
 * renews this owner's, and says whether it did. No lock is held while the job runs, so a job that hangs
 * loses its lease when it expires instead of blocking the fleet forever. Times come from the app's
 * clock: instances on several machines need synchronised clocks (NTP), as the sweep already does.
 */
export class PgJobLeases implements JobLeases {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly owner: string = randomUUID(),
  ) {}

  async acquire(job: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const until = new Date(now.getTime() + ttlMs);
    const { rows } = await sql<{ owner: string }>`
      insert into job_leases (name, owner, expires_at) values (${job}, ${this.owner}, ${until}::timestamptz)
      on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
        where job_leases.expires_at <= ${now}::timestamptz or job_leases.owner = excluded.owner
      returning owner`.execute(this.db);
    return rows.length === 1;
  }

  async release(job: string): Promise<void> {
    await this.db.deleteFrom('job_leases').where('name', '=', job).where('owner', '=', this.owner).execute();
  }

  async releaseAll(): Promise<void> {
    await this.db.deleteFrom('job_leases').where('owner', '=', this.owner).execute();
  }
}
