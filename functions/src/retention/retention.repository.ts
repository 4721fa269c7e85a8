import { sql, type Kysely } from 'kysely';
import { HOURLY_AGGREGATES, ROLLUP_COLUMNS } from '../devices/index.js';
import type { Db } from '../ports/db.js';
import type { Database } from '../ports/schema.generated.js';

type Conn = Kysely<Database>;
const HOUR_MS = 3600_000;
/** Serializes rollup runs across instances (a try-lock: a second run simply leaves). */
const ROLLUP_LOCK = 727300003;

/**
 * Where the rollups start when none were made yet: the start of the oldest heartbeat partition that
 * holds a row (`limit 1` per partition, oldest first), or null when there are no heartbeats at all.
 */
export async function oldestHeartbeatDay(db: Db): Promise<Date | null> {
  for (const p of await heartbeatPartitions(db)) {
    if (!p.attached) continue;
    const { rows } = await sql<{ one: number }>`select 1 as one from ${sql.table(p.name)} limit 1`.execute(db);
    if (rows.length) return p.from;
  }
  return null;
}

/** Starts the watermark at `at` when there is none yet (nothing before it needs rolling up). */
export async function startRollupsAt(db: Db, at: Date): Promise<void> {
  await db
    .insertInto('rollup_state')
    .values({ id: 1, rolled_up_to: at })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Rolls up one hour in one transaction: the hour's heartbeats, grouped by device, become rows of
 * heartbeat_rollups (replacing any left by an earlier attempt), and rollup_state moves past the hour.
 * Returns false when another instance holds the job or has already done this hour.
 */
export async function rollUpHour(db: Db, hour: Date): Promise<{ done: boolean; devices: number }> {
  return db.transaction().execute(async (trx) => {
    const { rows: locked } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${ROLLUP_LOCK}) as ok`.execute(trx);
    if (!locked[0]?.ok) return { done: false, devices: 0 };
    const state = await trx.selectFrom('rollup_state').select('rolled_up_to').forUpdate().executeTakeFirst();
    if (state && state.rolled_up_to.getTime() !== hour.getTime()) return { done: false, devices: 0 };
    await sql`select mdm_ensure_rollup_partitions(${hour}::timestamptz, 0)`.execute(trx);
    const end = new Date(hour.getTime() + HOUR_MS);
    const inserted = await sql`
      insert into heartbeat_rollups (device_id, hour, ${ROLLUP_COLUMNS})
      select device_id, ${hour}::timestamptz, ${HOURLY_AGGREGATES}
      from heartbeats
      where received_at >= ${hour}::timestamptz and received_at < ${end}::timestamptz
      group by device_id
      on conflict (device_id, hour) do update set
        mem_avail_min_mb = excluded.mem_avail_min_mb, mem_avail_avg_mb = excluded.mem_avail_avg_mb,
        mem_avail_max_mb = excluded.mem_avail_max_mb, mem_total_mb = excluded.mem_total_mb,
        storage_free_min_mb = excluded.storage_free_min_mb, storage_free_avg_mb = excluded.storage_free_avg_mb,
        storage_free_max_mb = excluded.storage_free_max_mb, storage_total_mb = excluded.storage_total_mb,
        uptime_max_sec = excluded.uptime_max_sec, samples = excluded.samples, charging_samples = excluded.charging_samples,
        app_up_samples = excluded.app_up_samples, battery_avg = excluded.battery_avg,
        battery_min = excluded.battery_min, battery_max = excluded.battery_max`.execute(trx);
    await trx
      .insertInto('rollup_state')
      .values({ id: 1, rolled_up_to: end })
      .onConflict((oc) => oc.column('id').doUpdateSet({ rolled_up_to: end }))
      .execute();
    return { done: true, devices: Number(inserted.numAffectedRows ?? 0) };
  });
}

export interface Partition {
  name: string;
  from: Date;
  to: Date;
  /** Still attached to its parent (a detach interrupted by a crash leaves it detached, or pending). */
  attached: boolean;
  detachPending: boolean;
}

const partitionsOf = async (db: Db, prefix: string, parent: string, toEnd: (from: Date) => Date): Promise<Partition[]> => {
  const { rows } = await sql<{ name: string; attached: boolean; pending: boolean }>`
    select c.relname as name, i.inhrelid is not null as attached, coalesce(i.inhdetachpending, false) as pending
    from pg_class c
    left join pg_inherits i on i.inhrelid = c.oid and i.inhparent = to_regclass(${parent})
    where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and c.relname ~ ${`^${prefix}\\d+$`}
    order by c.relname`.execute(db);
  return rows.map((r) => {
    const d = r.name.slice(prefix.length);
    const from = new Date(Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, d.length > 6 ? Number(d.slice(6, 8)) : 1));
    return { name: r.name, from, to: toEnd(from), attached: r.attached, detachPending: r.pending };
  });
};

export const heartbeatPartitions = (db: Db) =>
  partitionsOf(db, 'heartbeats_p', 'heartbeats', (from) => new Date(from.getTime() + 86_400_000));
export const rollupPartitions = (db: Db) =>
  partitionsOf(
    db,
    'heartbeat_rollups_p',
    'heartbeat_rollups',
    (from) => new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)),
  );

/**
 * Detaches a partition without blocking writers of the parent (CONCURRENTLY: inserts into today's
 * partition never wait), then drops it. A detach a crash left pending is finished first.
 */
export async function dropPartition(db: Db, parent: 'heartbeats' | 'heartbeat_rollups', p: Partition): Promise<void> {
  if (p.attached) {
    const how = p.detachPending ? sql`finalize` : sql`concurrently`;
    await sql`alter table ${sql.table(parent)} detach partition ${sql.table(p.name)} ${how}`.execute(db);
  }
  await sql`drop table if exists ${sql.table(p.name)}`.execute(db);
}

const BATCH = 5000;

/** Deletes in batches of 5,000 rows (short transactions, no long locks); returns how many went. */
async function deleteInBatches(run: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await run();
    total += n;
    if (n < BATCH) return total;
  }
}

const count = (r: { numDeletedRows?: bigint } | { numAffectedRows?: bigint } | undefined) =>
  Number((r as { numDeletedRows?: bigint })?.numDeletedRows ?? (r as { numAffectedRows?: bigint })?.numAffectedRows ?? 0);

/** Finished commands created and finished before `cutoff`, with their push attempts (cascade). */
export const pruneCommands = (db: Db, cutoff: Date) =>
  deleteInBatches(async () =>
    count(
      await sql`delete from commands where id in (
          select id from commands
          where created_at < ${cutoff}::timestamptz and status in ('succeeded', 'failed', 'rejected', 'expired', 'cancelled')
            and coalesce(completed_at, created_at) < ${cutoff}::timestamptz
          limit ${BATCH})`.execute(db),
    ),
  );

/**
 * Sent or dropped alert messages created before `cutoff`, and the notices they carried: a notice left
 * without its message would look unsent and be told again.
 */
export const pruneNotifications = (db: Db, cutoff: Date) =>
  deleteInBatches(() =>
    db.transaction().execute(async (trx: Conn) => {
      const { rows } = await sql<{ id: number }>`
        select id from notifications where created_at < ${cutoff}::timestamptz and status in ('sent', 'dropped')
        limit ${BATCH} for update`.execute(trx);
      if (rows.length === 0) return 0;
      const ids = rows.map((r) => r.id);
      await sql`delete from alert_notices where notification_id = any(${ids}::bigint[])`.execute(trx);
      await sql`delete from notifications where id = any(${ids}::bigint[])`.execute(trx);
      return rows.length;
    }),
  );

/** The fleet health chart's hours older than `cutoff` (at most a few thousand rows: one per hour). */
export const pruneFleetHealthHours = async (db: Db, cutoff: Date) =>
  Number((await db.deleteFrom('fleet_health_hours').where('hour', '<', cutoff).executeTakeFirst()).numDeletedRows);

/** Agent APK download records older than `cutoff`. */
export const pruneDownloads = (db: Db, cutoff: Date) =>
  deleteInBatches(async () =>
    count(
      await sql`delete from apk_downloads where id in (select id from apk_downloads where at < ${cutoff}::timestamptz limit ${BATCH})`.execute(
        db,
      ),
    ),
  );

/** Device events (crash reports and the like, part of the time series) older than `cutoff`. */
export const pruneDeviceEvents = (db: Db, cutoff: Date) =>
  deleteInBatches(async () =>
    count(
      await sql`delete from device_events where id in (
          select id from device_events where received_at < ${cutoff}::timestamptz limit ${BATCH})`.execute(db),
    ),
  );
