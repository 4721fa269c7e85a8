import { sql } from 'kysely';
import type { Db } from '../ports/db.js';
import type { DeviceDoc } from '../ports/mirror.js';
import { appState } from './live-document.js';

/** A device document's row: the select list and its tables; callers add where, order and limit. */
const selectDocRows = (frozenAfterMs: number) => sql`
  select d.id, coalesce(d.name, concat_ws(' ', d.model, d.serial)) as name, d.model, d.serial, g.name as group_name,
    coalesce((select array_agg(t.tag order by t.tag) from device_tags t where t.device_id = d.id), '{}') as tags,
    d.last_seen_at, d.battery_level, d.battery_charging, ${appState('d.', frozenAfterMs)} as app,
    coalesce((select array_agg(a.kind order by a.kind) from alerts a where a.device_id = d.id and a.status = 'open'), '{}') as open_alerts
  from devices d left join device_groups g on g.id = d.group_id`;

export interface DocRow {
  id: string;
  name: string;
  model: string;
  serial: string | null;
  group_name: string | null;
  tags: string[];
  last_seen_at: Date;
  battery_level: number | null;
  battery_charging: boolean | null;
  app: DeviceDoc['app'];
  open_alerts: string[];
}

/** The documents' rows of these devices. */
export async function docRowsOf(db: Db, deviceIds: readonly string[], frozenAfterMs: number): Promise<DocRow[]> {
  const { rows } = await sql<DocRow>`
    ${selectDocRows(frozenAfterMs)}
    where d.id = any(${deviceIds}::uuid[])`.execute(db);
  return rows;
}

export interface FleetPageFilter {
  afterId: string | undefined;
  seenSince: Date | undefined;
  limit: number;
  frozenAfterMs: number;
}

/** The fleet as the live mirror's documents show it, a page at a time in id order (the primary key). */
export async function fleetPage(db: Db, f: FleetPageFilter): Promise<DocRow[]> {
  const { rows } = await sql<DocRow>`
    ${selectDocRows(f.frozenAfterMs)}
    where true
      ${f.afterId === undefined ? sql`` : sql`and d.id > ${f.afterId}::uuid`}
      ${f.seenSince === undefined ? sql`` : sql`and d.last_seen_at >= ${f.seenSince}::timestamptz`}
    order by d.id
    limit ${f.limit}`.execute(db);
  return rows;
}

/** Counts for the fleet view's header; one query. */
export async function summaryCounts(db: Db, onlineSince: Date) {
  const { rows } = await sql<{ total: number; online: number; alerting: number; app_down: number }>`
    select (select count(*)::int from devices) as total,
      (select count(*)::int from devices where last_seen_at >= ${onlineSince}::timestamptz) as online,
      (select count(distinct device_id)::int from alerts where status = 'open') as alerting,
      (select count(*)::int from alerts where status = 'open' and kind = 'app_down') as app_down`.execute(db);
  return rows[0]!;
}
