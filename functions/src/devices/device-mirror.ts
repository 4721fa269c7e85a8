import { sql } from 'kysely';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/connect.js';
import type { Logger } from '../platform/logger.js';
import type { DeviceDoc, Mirror } from '../platform/mirror.js';
import { appState, type MirrorPolicy } from './devices.repository.js';

export interface MirrorThresholds {
  offlineAfterSec: number;
  frozenAfterMs: number;
}

/**
 * Keeps the live mirror (Firestore, or the standalone event stream) in step with PostgreSQL. Heartbeats
 * decide in SQL whether a device's document is due - its visible state changed (status, app state,
 * battery by whole 5% steps) or it was written more than `refreshSec` ago - so a steady fleet costs a
 * document write every `refreshSec`, not every heartbeat. The sweep publishes devices whose alerts or
 * status changed, and the fleet summary.
 */
export class DeviceMirror {
  constructor(
    private readonly db: Db,
    private readonly mirror: Mirror,
    private readonly clock: Clock,
    private readonly thresholds: () => Promise<MirrorThresholds>,
    private readonly refreshSec: number,
    private readonly logger: Logger,
  ) {}

  /** The rule heartbeats apply (devices/devices.repository.ts insertHeartbeats). */
  async policy(now: Date): Promise<MirrorPolicy> {
    const t = await this.thresholds();
    return {
      now,
      offlineCutoff: new Date(now.getTime() - t.offlineAfterSec * 1000),
      refreshBefore: new Date(now.getTime() - this.refreshSec * 1000),
      frozenAfterMs: t.frozenAfterMs,
    };
  }

  /** Writes the current documents of these devices. */
  async publish(deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const t = await this.thresholds();
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - t.offlineAfterSec * 1000);
    for (let i = 0; i < deviceIds.length; i += 500) {
      const { rows } = await sql<DocRow>`
        ${selectDocRows(t.frozenAfterMs)}
        where d.id = any(${deviceIds.slice(i, i + 500)}::uuid[])`.execute(this.db);
      await this.mirror.writeDevices(rows.map((r) => toDoc(r, cutoff, now)));
    }
  }

  /** Counts for the fleet view's header; one query, every sweep. */
  async publishSummary(): Promise<void> {
    const t = await this.thresholds();
    const now = this.clock.now();
    const { rows } = await sql<{ total: number; online: number; alerting: number; app_down: number }>`
      select (select count(*)::int from devices) as total,
        (select count(*)::int from devices where last_seen_at >= ${new Date(now.getTime() - t.offlineAfterSec * 1000)}::timestamptz) as online,
        (select count(distinct device_id)::int from alerts where status = 'open') as alerting,
        (select count(*)::int from alerts where status = 'open' and kind = 'app_down') as app_down`.execute(this.db);
    const r = rows[0]!;
    await this.mirror.writeSummary({
      total: r.total,
      online: r.online,
      offline: r.total - r.online,
      alerting: r.alerting,
      appDown: r.app_down,
      updatedAt: now.toISOString(),
    });
  }

  /** publish(), logging instead of failing: callers' own work must not fail because the live view did. */
  async tryPublish(deviceIds: readonly string[]): Promise<void> {
    await this.publish(deviceIds).catch((err: unknown) => this.logger.warn('mirror update failed', { count: deviceIds.length, err }));
  }
}

/** A device document's row: the select list and its tables; callers add where, order and limit. */
export const selectDocRows = (frozenAfterMs: number) => sql`
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

/** The live document of a device; the console's fleet snapshot (console/console.service.ts) uses the same. */
export function toDoc(r: DocRow, onlineCutoff: Date, now: Date): DeviceDoc {
  return {
    id: r.id,
    name: r.name,
    model: r.model,
    serial: r.serial,
    group: r.group_name,
    tags: r.tags,
    status: r.last_seen_at >= onlineCutoff ? 'online' : 'offline',
    lastSeenAt: r.last_seen_at.toISOString(),
    battery: r.battery_level === null ? null : Math.floor(r.battery_level / 5) * 5,
    charging: r.battery_charging,
    app: r.app,
    openAlerts: r.open_alerts,
    updatedAt: now.toISOString(),
  };
}
