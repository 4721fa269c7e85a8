import { sql } from 'kysely';
import type { Db } from '../ports/db.js';
import type { FleetCounts } from '../ports/metrics.js';

/**
 * The fleet gauges of /metrics, read from the database in one statement so every instance reports
 * the same. Active and online devices are counted in one pass over the devices; commands by state
 * are the table as it is (finished ones until retention prunes them); alerts only the open ones (a
 * partial unique index). Retiring and retired devices are in no device gauge.
 */
export async function fleetCounts(db: Db, onlineCutoff: Date, now: Date): Promise<FleetCounts> {
  const { rows } = await sql<{
    total: number;
    online: number;
    commands: Record<string, number> | null;
    alerts: Record<string, number> | null;
    groups: Record<string, number> | null;
    notifications: Record<string, number> | null;
    rolled_up_to: Date | null;
  }>`
    select
      -- one pass over the devices for both (the last contact is not indexed in devices: migration 0028)
      d.total, d.online,
      (select jsonb_object_agg(status, n) from (select status, count(*)::int as n from commands group by status) c) as commands,
      (select jsonb_object_agg(kind, n) from (select kind, count(*)::int as n from alerts where status = 'open' group by kind) a) as alerts,
      (select jsonb_object_agg(coalesce(g.name, ''), n) from (select group_id, count(*)::int as n from devices where lifecycle = 'active' group by group_id) d
        left join device_groups g on g.id = d.group_id) as groups,
      (select jsonb_object_agg(status, n) from (select status, count(*)::int as n from notifications group by status) x) as notifications,
      (select rolled_up_to from rollup_state) as rolled_up_to
    from (select count(*) filter (where lifecycle = 'active')::int as total,
        count(*) filter (where lifecycle = 'active' and last_seen_at >= ${onlineCutoff}::timestamptz)::int as online
      from devices) d`.execute(db);
  const r = rows[0]!;
  return {
    devices: { online: r.online, offline: r.total - r.online },
    commands: r.commands ?? {},
    alertsOpen: r.alerts ?? {},
    byGroup: r.groups ?? {},
    notifications: r.notifications ?? {},
    rollupLagSec: r.rolled_up_to ? Math.max(0, Math.round((now.getTime() - r.rolled_up_to.getTime()) / 1000)) : null,
  };
}
