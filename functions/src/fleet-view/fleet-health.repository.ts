import { sql } from 'kysely';
import type { Db } from '../ports/db.js';

export interface HealthHour {
  hour: Date;
  /** Devices that sent at least one heartbeat in the hour (they have a rollup row for it). */
  online: number;
  /** Devices of the fleet in that hour (enrolled, not yet retired or retiring) that sent none. */
  offline: number;
  /** Devices with an alert open at some point of the hour. */
  alerting: number;
}

const HOUR_MS = 3_600_000;

/**
 * Per hour from `from` to `to` (exclusive; both on the hour, and complete: rolled up): online, offline
 * and alerting devices. A complete hour's counts never change, so each is computed once and kept in
 * fleet_health_hours; a request computes only the hours it does not find there (after the first
 * look, the hour that has just been rolled up) - one short aggregate, then 168 stored rows for 7 d
 * whatever the size of the fleet. Two requests computing the same hour store it once.
 */
export async function fleetHealth(db: Db, from: Date, to: Date): Promise<HealthHour[]> {
  const stored = await db
    .selectFrom('fleet_health_hours')
    .select(['hour', 'online', 'fleet', 'alerting'])
    .where('hour', '>=', from)
    .where('hour', '<', to)
    .orderBy('hour')
    .execute();
  const byHour = new Map(stored.map((r) => [r.hour.getTime(), toHealthHour(r)]));
  const missing: number[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += HOUR_MS) if (!byHour.has(t)) missing.push(t);
  if (missing.length > 0) {
    // one statement over the span of the missing hours (after the first request: the newest hour)
    const computed = await computeFleetHealth(db, new Date(missing[0]!), new Date(missing[missing.length - 1]! + HOUR_MS));
    const fresh = computed.filter((h) => !byHour.has(h.hour.getTime()));
    if (fresh.length > 0) {
      await db
        .insertInto('fleet_health_hours')
        .values(fresh.map((h) => ({ hour: h.hour, online: h.online, fleet: h.online + h.offline, alerting: h.alerting })))
        .onConflict((oc) => oc.column('hour').doNothing())
        .execute();
    }
    for (const h of fresh) byHour.set(h.hour.getTime(), h);
  }
  return [...byHour.values()].sort((a, b) => a.hour.getTime() - b.hour.getTime());
}

function toHealthHour(r: { hour: Date; online: number; fleet: number; alerting: number }): HealthHour {
  return { hour: new Date(r.hour), online: r.online, offline: Math.max(0, r.fleet - r.online), alerting: r.alerting };
}

/**
 * Per hour from `from` to `to` (exclusive; both on the hour): online, offline and alerting devices, in
 * one statement. Online is a count per hour of heartbeat_rollups rows, an index-only scan of
 * heartbeat_rollups_hour_idx over the range (never a row per device per hour through the application).
 * The fleet of an hour is counted from devices grouped by the hour they joined and left (a few rows
 * per hour, whatever the fleet's size), alerting from the alerts open in the range.
 */
async function computeFleetHealth(db: Db, from: Date, to: Date): Promise<HealthHour[]> {
  const { rows } = await fleetHealthStatement(from, to).execute(db);
  return rows.map(toHealthHour);
}

/** computeFleetHealth's statement (exported so that its plan can be checked). */
export function fleetHealthStatement(from: Date, to: Date) {
  return sql<{ hour: Date; online: number; fleet: number; alerting: number }>`
    with hours as (
      select generate_series(${from}::timestamptz, ${to}::timestamptz - interval '1 hour', interval '1 hour') as hour
    ),
    online as (
      select hour, count(*)::int as n from heartbeat_rollups
      where hour >= ${from}::timestamptz and hour < ${to}::timestamptz
      group by hour
    ),
    -- materialized: read once. Inlined (PostgreSQL inlines a CTE used once), the per-hour subquery
    -- below would run this pass over the devices once per hour.
    fleet as materialized (
      select date_trunc('hour', enrolled_at, 'UTC') as joined,
             date_trunc('hour', coalesce(retire_requested_at, retired_at), 'UTC') as left_at,
             count(*)::int as n
      from devices
      where enrolled_at < ${to}::timestamptz
        and (coalesce(retire_requested_at, retired_at) is null or coalesce(retire_requested_at, retired_at) >= ${from}::timestamptz)
      group by 1, 2
    ),
    alerting as (
      select h.hour, count(distinct a.device_id)::int as n
      from alerts a
      join hours h on a.opened_at < h.hour + interval '1 hour' and (a.resolved_at is null or a.resolved_at > h.hour)
      where a.opened_at < ${to}::timestamptz and (a.resolved_at is null or a.resolved_at > ${from}::timestamptz)
      group by h.hour
    )
    select h.hour,
           coalesce(o.n, 0) as online,
           (select coalesce(sum(f.n), 0)::int from fleet f where f.joined <= h.hour and (f.left_at is null or f.left_at >= h.hour)) as fleet,
           coalesce(al.n, 0) as alerting
    from hours h
    left join online o on o.hour = h.hour
    left join alerting al on al.hour = h.hour
    order by h.hour`;
}

/** The end of the newest hour the rollup job has stored (null before its first run). */
export async function rollupEdge(db: Db): Promise<Date | null> {
  return (await db.selectFrom('rollup_state').select('rolled_up_to').executeTakeFirst())?.rolled_up_to ?? null;
}
