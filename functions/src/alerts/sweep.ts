import { sql } from 'kysely';
import type { Db } from '../platform/db/connect.js';
import { ALERT_KINDS, type AlertSettings } from './alert-settings.js';

export interface SweepResult {
  /** false when another sweep held the lock: it did this round's work. */
  ran: boolean;
  opened: number;
  resolved: number;
  notices: number;
}

/** Serialises sweeps across instances; a second one at the same time skips instead of waiting. */
const SWEEP_LOCK = 727300010;

/**
 * Raises and resolves alerts from the devices' latest state, set-based, in one statement:
 *
 * - `cur`: every (device, kind) whose condition holds now - one pass over devices; offline devices
 *   only count as offline (their last reported app and battery state is stale);
 * - conditions first seen are remembered with their time, ended ones forgotten;
 * - open alerts whose condition ended resolve - except app and battery alerts of a device that is now
 *   offline, which wait for it to come back;
 * - conditions held for the hold time (offline: from the last contact) open an alert unless one is open
 *   (a unique index) or one of that kind resolved within the cooldown (flap suppression);
 * - what to tell people goes to the notice outbox per channel: openings, and resolutions of alerts
 *   whose opening was told; an alert resolved before anyone heard of it is dropped silently.
 *
 * A transaction-scoped advisory lock makes concurrent sweeps one: no alert or notice twice.
 */
export async function sweep(db: Db, settings: AlertSettings, now: Date): Promise<SweepResult> {
  const t = settings.thresholds;
  const enabled = ALERT_KINDS.filter((k) => settings.kinds[k].enabled);
  const routes = (['discord', 'email'] as const).flatMap((channel) => {
    const c = settings.channels[channel];
    const configured = channel === 'discord' ? settings.channels.discord.webhookUrl !== null : settings.channels.email.smtpUrl !== null && settings.channels.email.to.length > 0;
    return c.enabled && configured ? c.kinds.map((kind) => ({ channel, kind })) : [];
  });
  const cutoff = new Date(now.getTime() - t.offlineAfterSec * 1000);
  const holdCutoff = new Date(now.getTime() - t.holdSec * 1000);
  const cooldownCutoff = new Date(now.getTime() - t.cooldownSec * 1000);

  return db.transaction().execute(async (trx) => {
    const { rows: lock } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${SWEEP_LOCK}) as ok`.execute(trx);
    if (!lock[0]?.ok) return { ran: false, opened: 0, resolved: 0, notices: 0 };
    const { rows } = await sql<{ opened: number; resolved: number; notices: number }>`
      with cur as (
        select d.id as device_id, k.kind, k.since, k.details
        from devices d
        cross join lateral (values
          ('offline', d.last_seen_at < ${cutoff}::timestamptz, d.last_seen_at,
            jsonb_build_object('lastSeenAt', d.last_seen_at)),
          ('low_battery', d.last_seen_at >= ${cutoff}::timestamptz and d.battery_level < ${t.lowBatteryPct}::int
            and not d.battery_charging, null::timestamptz, jsonb_build_object('batteryLevel', d.battery_level)),
          ('app_down', d.last_seen_at >= ${cutoff}::timestamptz and (not d.app_running or not d.app_foreground), null,
            jsonb_build_object('package', d.app_package, 'running', d.app_running, 'foreground', d.app_foreground)),
          ('app_frozen', d.last_seen_at >= ${cutoff}::timestamptz and d.app_running and d.app_foreground
            and d.app_last_frame_age_ms > ${t.frameAgeMs}::int, null, jsonb_build_object('lastFrameAgeMs', d.app_last_frame_age_ms))
        ) as k(kind, holds, since, details)
        where (d.last_seen_at < ${cutoff}::timestamptz
            or (d.battery_level < ${t.lowBatteryPct}::int and not d.battery_charging)
            or not d.app_running or not d.app_foreground or d.app_last_frame_age_ms > ${t.frameAgeMs}::int)
          and k.holds and k.kind = any(${enabled}::text[])
      ),
      waiting as (
        -- a device that is offline keeps its app and battery conditions as they were
        select c.device_id, c.kind from alert_conditions c join devices d on d.id = c.device_id
        where d.last_seen_at < ${cutoff}::timestamptz and c.kind <> 'offline'
      ),
      remembered as (
        insert into alert_conditions (device_id, kind, since)
        select device_id, kind, coalesce(since, ${now}::timestamptz) from cur
        on conflict (device_id, kind) do nothing
      ),
      forgotten as (
        delete from alert_conditions c
        where not exists (select 1 from cur where cur.device_id = c.device_id and cur.kind = c.kind)
          and not exists (select 1 from waiting w where w.device_id = c.device_id and w.kind = c.kind)
      ),
      resolved as (
        update alerts a set status = 'resolved', resolved_at = ${now}::timestamptz
        where a.status = 'open'
          and not exists (select 1 from cur where cur.device_id = a.device_id and cur.kind = a.kind)
          and not exists (select 1 from waiting w where w.device_id = a.device_id and w.kind = a.kind)
        returning a.id
      ),
      opened as (
        insert into alerts (device_id, kind, condition_since, opened_at, details)
        select cur.device_id, cur.kind, coalesce(c.since, cur.since, ${now}::timestamptz), ${now}::timestamptz, cur.details
        from cur left join alert_conditions c on c.device_id = cur.device_id and c.kind = cur.kind
        where coalesce(c.since, cur.since, ${now}::timestamptz)
              <= case when cur.kind = 'offline' then ${now}::timestamptz else ${holdCutoff}::timestamptz end
          and not exists (
            select 1 from alerts a where a.device_id = cur.device_id and a.kind = cur.kind
              and (a.status = 'open' or a.resolved_at > ${cooldownCutoff}::timestamptz))
        on conflict (device_id, kind) where status = 'open' do nothing
        returning id, kind
      ),
      untold as (
        delete from alert_notices n using resolved r
        where n.alert_id = r.id and n.type = 'opened' and n.notification_id is null
      ),
      told_resolved as (
        insert into alert_notices (alert_id, channel, type, created_at)
        select distinct r.id, n.channel, 'resolved', ${now}::timestamptz
        from resolved r join alert_notices n on n.alert_id = r.id and n.type = 'opened' and n.notification_id is not null
        returning id
      ),
      fixed as (
        update alert_remediations m set outcome = 'fixed', outcome_at = ${now}::timestamptz
        from resolved r where m.alert_id = r.id and m.outcome is null
      ),
      told_opened as (
        insert into alert_notices (alert_id, channel, type, created_at)
        select o.id, ch.channel, 'opened', ${now}::timestamptz
        from opened o
        join unnest(${routes.map((r) => r.kind)}::text[], ${routes.map((r) => r.channel)}::text[]) as ch(kind, channel)
          on ch.kind = o.kind
        returning id
      )
      select (select count(*) from opened)::int as opened, (select count(*) from resolved)::int as resolved,
        ((select count(*) from told_opened) + (select count(*) from told_resolved))::int as notices`.execute(trx);
    const r = rows[0]!;
    return { ran: true, opened: r.opened, resolved: r.resolved, notices: r.notices };
  });
}
