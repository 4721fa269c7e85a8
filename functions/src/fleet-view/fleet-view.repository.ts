import { sql } from 'kysely';
import type { Db } from '../ports/db.js';
import type { DeviceDoc } from '../ports/mirror.js';

/**
 * When a device's live document is due - the one rule of the live view, owned here and applied in
 * two places: in SQL by the heartbeat statement (devices), which keeps a fingerprint of the visible
 * fields in `devices.mirror_fp` and the time of the last write in `mirror_at`, and by the sweep, which
 * publishes the devices whose status or alerts it changed. A document is written when the visible
 * state changes, when the device comes back from offline, or when the last write is older than the
 * refresh interval - so a steady fleet costs one write per device per refresh, not per heartbeat.
 */
export interface MirrorPolicy {
  /** The batch's time: written into mirror_at for the devices whose mirror document is due. */
  now: Date;
  /** Last contact before this: the device was offline, so its document changes (it is back). */
  offlineCutoff: Date;
  /** A document written before this is refreshed even if nothing changed. */
  refreshBefore: Date;
  frozenAfterMs: number;
}

/** A policy under which nothing is ever due (a writer without a live view). */
export const NEVER_DUE = (now: Date): MirrorPolicy => ({
  now,
  offlineCutoff: new Date(0),
  refreshBefore: new Date(0),
  frozenAfterMs: 30_000,
});

/** What the console sees of the kiosk app, from a row's columns (the same words everywhere). */
export const appState = (p: string, frozenAfterMs: number) =>
  sql<string>`case when ${sql.raw(p)}app_package is null then 'unknown'
    when ${sql.raw(p)}app_running and ${sql.raw(p)}app_foreground
      and coalesce(${sql.raw(p)}app_last_frame_age_ms, 0) <= ${frozenAfterMs}::int then 'running'
    when ${sql.raw(p)}app_running and ${sql.raw(p)}app_foreground then 'frozen' else 'down' end`;

/**
 * The visible state a mirror document shows that a heartbeat can change: battery in 5% steps,
 * charging, app state, the agent's and the kiosk app's versions (the Android version comes with
 * enrollment only, when the document is written anyway). Changing this expression makes every
 * stored fingerprint differ once, so each device's document is rewritten at its next heartbeat.
 */
export const visibleFingerprint = (p: string, frozenAfterMs: number) =>
  sql<string>`concat_ws('|', floor(${sql.raw(p)}battery_level / 5), ${sql.raw(p)}battery_charging, ${appState(p, frozenAfterMs)},
    ${sql.raw(p)}agent_version, ${sql.raw(p)}app_version_name, ${sql.raw(p)}app_version_code)`;

/**
 * The heartbeat statement's "is the document due" test, over the device row `d` as stored and the
 * newest heartbeat `l` of the batch; `fresh` is true when `l` is newer than the stored state.
 */
export const mirrorDue = (policy: MirrorPolicy, fresh: ReturnType<typeof sql>) =>
  sql`(d.mirror_at is null or d.mirror_at < ${policy.refreshBefore}::timestamptz
    or d.last_seen_at < ${policy.offlineCutoff}::timestamptz
    or (${fresh} and ${visibleFingerprint('l.', policy.frozenAfterMs)} is distinct from d.mirror_fp))`;

/** A device document's row: the select list and its tables; callers add where, order and limit. */
const selectDocRows = (frozenAfterMs: number) => sql`
  select d.id, coalesce(d.name, concat_ws(' ', d.model, d.serial)) as name, d.model, d.serial, g.name as group_name,
    coalesce((select array_agg(t.tag order by t.tag) from device_tags t where t.device_id = d.id), '{}') as tags,
    d.last_seen_at, d.lifecycle, d.battery_level, d.battery_charging, ${appState('d.', frozenAfterMs)} as app,
    d.agent_version, d.android_version, d.app_version_name, d.app_version_code,
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
  lifecycle: 'active' | 'retiring' | 'retired';
  battery_level: number | null;
  battery_charging: boolean | null;
  app: DeviceDoc['app'];
  agent_version: string;
  android_version: string;
  app_version_name: string | null;
  app_version_code: number | null;
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
      ${f.seenSince === undefined ? sql`` : sql`and d.id in (select p.device_id from device_presence p where p.last_seen_at >= ${f.seenSince}::timestamptz)`}
    order by d.id
    limit ${f.limit}`.execute(db);
  return rows;
}

/** Counts for the fleet view's header; one query. Retiring and retired devices count apart. */
export async function summaryCounts(db: Db, onlineSince: Date) {
  const { rows } = await sql<{ total: number; online: number; alerting: number; app_down: number; retired: number }>`
    select d.total, d.online, d.retired,
      (select count(distinct device_id)::int from alerts where status = 'open') as alerting,
      (select count(*)::int from alerts where status = 'open' and kind = 'app_down') as app_down
    -- one pass over the devices for the three (the last contact is not indexed in devices: migration 0028)
    from (select count(*) filter (where lifecycle = 'active')::int as total,
        count(*) filter (where lifecycle = 'active' and last_seen_at >= ${onlineSince}::timestamptz)::int as online,
        count(*) filter (where lifecycle <> 'active')::int as retired
      from devices) d`.execute(db);
  return rows[0]!;
}
