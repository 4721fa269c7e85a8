import { sql } from 'kysely';
import { appState } from '../devices/devices.repository.js';
import type { Db } from '../platform/db/connect.js';
import type { DeviceDoc } from '../platform/mirror.js';

export interface FleetPageFilter {
  afterId: string | undefined;
  seenSince: Date | undefined;
  limit: number;
  frozenAfterMs: number;
}

export interface FleetRow {
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

/** The fleet as the live mirror's documents show it, a page at a time in id order (the primary key). */
export async function fleetPage(db: Db, f: FleetPageFilter): Promise<FleetRow[]> {
  const { rows } = await sql<FleetRow>`
    select d.id, coalesce(d.name, concat_ws(' ', d.model, d.serial)) as name, d.model, d.serial, g.name as group_name,
      coalesce((select array_agg(t.tag order by t.tag) from device_tags t where t.device_id = d.id), '{}') as tags,
      d.last_seen_at, d.battery_level, d.battery_charging, ${appState('d.', f.frozenAfterMs)} as app,
      coalesce((select array_agg(a.kind order by a.kind) from alerts a where a.device_id = d.id and a.status = 'open'), '{}') as open_alerts
    from devices d left join device_groups g on g.id = d.group_id
    where true
      ${f.afterId === undefined ? sql`` : sql`and d.id > ${f.afterId}::uuid`}
      ${f.seenSince === undefined ? sql`` : sql`and d.last_seen_at >= ${f.seenSince}::timestamptz`}
    order by d.id
    limit ${f.limit}`.execute(db);
  return rows;
}
