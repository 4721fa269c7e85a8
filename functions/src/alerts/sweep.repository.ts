import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../ports/db.js';
import { ALERT_KINDS } from './alert-kinds.js';
import type { AlertSettings } from './alerts.schemas.js';

/**
 * The sweep's tables: sweep_state, and the one statement that raises and resolves alerts (alerts,
 * alert_conditions, alert_notices, alert_remediations). Plain functions over `db` or a transaction;
 * the sweep's transaction begins in sweep.ts.
 */

/** Serialises sweeps across instances; a second one at the same time skips instead of waiting. */
const SWEEP_LOCK = 727300010;
/** How far before the last sweep the next one looks for devices that went offline (clock skew, slow sweeps). */
const LOOKBACK_MARGIN_MS = 10 * 60_000;
const NEVER = new Date('1970-01-01T00:00:00Z');

/** What the groups' alert hours say now (alert-hours.ts evaluates them; there are few groups). */
export interface GroupClocks {
  /** Groups outside their expected hours or inside a maintenance window: no offline or app alerts. */
  quiet: string[];
  /** Groups whose current open period began within the horizon, with its start: the offline clock starts there. */
  opened: { groupId: string; since: Date }[];
}
export const NO_HOURS: GroupClocks = { quiet: [], opened: [] };

/** Takes the sweep's transaction-scoped advisory lock; false when another sweep holds it. */
export async function tryLockSweep(trx: Db): Promise<boolean> {
  const { rows: lock } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${SWEEP_LOCK}) as ok`.execute(trx);
  return Boolean(lock[0]?.ok);
}

/** The anti-joins over a large fleet's alerts want to hash in memory (for the rest of the transaction). */
export async function raiseSweepWorkMem(trx: Db): Promise<void> {
  await sql`set local work_mem = '64MB'`.execute(trx);
}

/** When the last sweep ran, and the oldest last contact of the offline devices it left for the next (0031). */
export async function sweepState(db: Db): Promise<{ lastSweptAt: Date | null; offlineBacklogFrom: Date | null }> {
  const row = await db.selectFrom('sweep_state').select(['last_swept_at', 'offline_backlog_from']).executeTakeFirst();
  return { lastSweptAt: row?.last_swept_at ?? null, offlineBacklogFrom: row?.offline_backlog_from ?? null };
}

export async function recordSweep(db: Db, at: Date, offlineBacklogFrom: Date | null = null): Promise<void> {
  await db
    .insertInto('sweep_state')
    .values({ id: 1, last_swept_at: at, offline_backlog_from: offlineBacklogFrom })
    .onConflict((oc) => oc.column('id').doUpdateSet({ last_swept_at: at, offline_backlog_from: offlineBacklogFrom }))
    .execute();
}

/** The next sweep reads the whole fleet again (after settings change what counts). */
export async function forgetLastSweep(db: Db): Promise<void> {
  await db.deleteFrom('sweep_state').execute();
}

/**
 * At most this many alerts open, and this many resolve, in one statement. A million devices going
 * offline at once made one statement run past the statement timeout on every tick (and roll back).
 */
export const SWEEP_BATCH = 20_000;

export interface SweepBatch {
  /** Alerts opened, and alerts resolved, at most in one statement. */
  size: number;
  /** Offline devices from an earlier statement's batches not alerted yet: their oldest clock start. */
  backlogFrom: Date | null;
}

/** Runs the sweep's one statement: counts, the devices whose live document changed, and what it left for the next. */
export async function runSweepStatement(
  trx: Db,
  settings: AlertSettings,
  now: Date,
  lastSwept: Date | null,
  clocks: GroupClocks,
  batch: SweepBatch = { size: SWEEP_BATCH, backlogFrom: null },
) {
  const { rows } = await sweepStatement(settings, now, lastSwept, clocks, batch).execute(trx);
  return rows[0]!;
}

/**
 * The sweep's one statement (exported so it can be EXPLAINed at scale):
 *
 * - `hit`/`cur`: the app and battery conditions of devices that are online - one pass over devices;
 *   retiring and retired devices are never candidates, and their open alerts resolve;
 * - `went_offline`: devices whose offline clock crossed the threshold since the last sweep (an index
 *   range on device_presence's last contact, not every offline device again), and offline devices whose cooldown ended
 *   since. The clock starts at the latest of the last contact, the opening of the device's group
 *   (`hours`: a quiet group's opening is 'infinity') and the end of the device's snooze, so devices
 *   of a group that just opened, or whose snooze just ended, are looked at once more;
 * - `armed`: the app and battery conditions that may raise alerts - not on snoozed devices, and only
 *   low battery in quiet groups; the others are forgotten, so their hold time starts at opening;
 * - app and battery conditions first seen are remembered with their time, ended ones forgotten; a
 *   device that is offline keeps them as they were until it is back;
 * - open alerts resolve when their condition ended (offline: the device is back);
 * - conditions held for the hold time open an alert (offline: at once), unless one is open (a unique
 *   index) or one of that kind resolved within the cooldown (flap suppression);
 * - what to tell people goes to the notice outbox per channel: openings, and resolutions of alerts
 *   whose opening was told; an alert resolved before anyone heard of it is dropped silently.
 */
export function sweepStatement(
  settings: AlertSettings,
  now: Date,
  lastSwept: Date | null,
  clocks: GroupClocks = NO_HOURS,
  batch: SweepBatch = { size: SWEEP_BATCH, backlogFrom: null },
) {
  const t = settings.thresholds;
  const enabled = ALERT_KINDS.filter((k) => settings.kinds[k].enabled);
  const routes = (['discord', 'email'] as const).flatMap((channel) => {
    const c = settings.channels[channel];
    const configured =
      channel === 'discord'
        ? c.enabled && settings.channels.discord.webhookUrl !== null
        : c.enabled && settings.channels.email.smtpUrl !== null && settings.channels.email.to.length > 0;
    return configured ? c.kinds.map((kind) => ({ channel, kind })) : [];
  });
  const ms = now.getTime();
  // a quiet group's offline clock starts at its next opening: never, as far as this sweep can tell
  const hourIds = [...clocks.quiet, ...clocks.opened.map((o) => o.groupId)];
  const hourSince = [...clocks.quiet.map(() => 'infinity'), ...clocks.opened.map((o) => o.since.toISOString())];
  const cutoff = new Date(ms - t.offlineAfterSec * 1000);
  const holdCutoff = new Date(ms - t.holdSec * 1000);
  const cooldownCutoff = new Date(ms - t.cooldownSec * 1000);
  const since = lastSwept ? lastSwept.getTime() - LOOKBACK_MARGIN_MS : null;
  // from the last sweep's lookback, or further back where an earlier batch left offline devices unalerted
  const windowFrom = since === null ? NEVER : new Date(since - t.offlineAfterSec * 1000);
  const offlineFrom = batch.backlogFrom && batch.backlogFrom < windowFrom ? batch.backlogFrom : windowFrom;
  const cooldownEndedFrom = since === null ? NEVER : new Date(since - t.cooldownSec * 1000);
  const offlineOn = enabled.includes('offline');
  // A device's live document changes once, when it crosses the threshold: after the last sweep's own
  // cutoff. The lookback above is for alerts (idempotent); it would rewrite the document on every
  // sweep for LOOKBACK_MARGIN_MS.
  const newlyOfflineFrom = lastSwept ? new Date(lastSwept.getTime() - t.offlineAfterSec * 1000) : NEVER;
  // An alert still to open for this device and kind: none open (a unique index), none resolved within
  // the cooldown (flap suppression). Each probe as a partial index of alerts states it: in a mass event
  // the statistics still say there are few alerts of the kind, and a probe the indexes could not answer
  // was planned as a scan of alerts per device.
  const stillToOpen = (device: RawBuilder<unknown>, kind: RawBuilder<unknown>) =>
    sql`not exists (select 1 from alerts a where a.device_id = ${device} and a.kind = ${kind} and a.status = 'open')
      and not exists (select 1 from alerts a where a.device_id = ${device} and a.kind = ${kind} and a.status = 'resolved'
        and a.resolved_at > ${cooldownCutoff}::timestamptz)`;
  return sql<{ opened: number; resolved: number; notices: number; changed: string[] | null; more: boolean; backlog_from: Date | null }>`
    with hit as materialized (
      select d.id, d.group_id,
        exists (select 1 from device_snoozes s where s.device_id = d.id and s.until > ${now}::timestamptz) as snoozed,
        d.battery_level < ${t.lowBatteryPct}::int and not d.battery_charging as is_low,
        not d.app_running or not d.app_foreground as is_down,
        d.app_running and d.app_foreground and d.app_last_frame_age_ms > ${t.frameAgeMs}::int as is_frozen
      from devices d
      where d.last_seen_at >= ${cutoff}::timestamptz and d.lifecycle = 'active'
        and ((d.battery_level < ${t.lowBatteryPct}::int and not d.battery_charging)
          or not d.app_running or not d.app_foreground or d.app_last_frame_age_ms > ${t.frameAgeMs}::int)
    ),
    cur as materialized (
      select id as device_id, 'low_battery'::text as kind from hit where is_low and 'low_battery' = any(${enabled}::text[])
      union all select id, 'app_down' from hit where is_down and 'app_down' = any(${enabled}::text[])
      union all select id, 'app_frozen' from hit where is_frozen and 'app_frozen' = any(${enabled}::text[])
    ),
    armed as materialized (
      select cur.device_id, cur.kind from cur join hit on hit.id = cur.device_id
      where not hit.snoozed and (cur.kind = 'low_battery' or hit.group_id is null or not hit.group_id = any(${clocks.quiet}::uuid[]))
    ),
    hours as materialized (
      select * from unnest(${hourIds}::uuid[], ${hourSince}::timestamptz[]) as h(group_id, open_since)
    ),
    crossed as materialized (
      -- a range of device_presence's index (devices.last_seen_at is not indexed: migration 0028)
      select d.id, p.last_seen_at from device_presence p join devices d on d.id = p.device_id
      where ${offlineOn}::boolean and p.last_seen_at < ${cutoff}::timestamptz and p.last_seen_at >= ${offlineFrom}::timestamptz
        and d.lifecycle = 'active'
    ),
    pool as (
      select id from crossed
      union
      select d.id from hours h join devices d on d.group_id = h.group_id
      where ${offlineOn}::boolean and h.open_since >= ${offlineFrom}::timestamptz and h.open_since < ${cutoff}::timestamptz
        and d.last_seen_at < ${cutoff}::timestamptz
      union
      select s.device_id from device_snoozes s
      where ${offlineOn}::boolean and s.until >= ${offlineFrom}::timestamptz and s.until < ${cutoff}::timestamptz
    ),
    went_offline as materialized (
      select d.id as device_id, greatest(d.last_seen_at, h.open_since, s.until) as since
      from pool p join devices d on d.id = p.id
      left join hours h on h.group_id = d.group_id left join device_snoozes s on s.device_id = d.id
      where d.lifecycle = 'active' and greatest(d.last_seen_at, h.open_since, s.until) < ${cutoff}::timestamptz
        and greatest(d.last_seen_at, h.open_since, s.until) >= ${offlineFrom}::timestamptz
      union
      select d.id, greatest(d.last_seen_at, h.open_since, s.until) from alerts a join devices d on d.id = a.device_id
      left join hours h on h.group_id = d.group_id left join device_snoozes s on s.device_id = d.id
      where ${offlineOn}::boolean and a.kind = 'offline' and a.status = 'resolved'
        and a.resolved_at >= ${cooldownEndedFrom}::timestamptz
        and greatest(d.last_seen_at, h.open_since, s.until) < ${cutoff}::timestamptz
        and d.lifecycle = 'active'
    ),
    -- the offline devices still to alert
    due as materialized (
      select w.device_id, w.since from went_offline w where ${stillToOpen(sql`w.device_id`, sql`'offline'`)}
    ),
    waiting as (
      select c.device_id, c.kind from alert_conditions c join devices d on d.id = c.device_id
      where d.last_seen_at < ${cutoff}::timestamptz and d.lifecycle = 'active'
    ),
    remembered as (
      insert into alert_conditions (device_id, kind, since)
      select device_id, kind, ${now}::timestamptz from armed
      on conflict (device_id, kind) do nothing
    ),
    forgotten as (
      delete from alert_conditions c
      where not exists (select 1 from armed where armed.device_id = c.device_id and armed.kind = c.kind)
        and not exists (select 1 from waiting w where w.device_id = c.device_id and w.kind = c.kind)
    ),
    ending as materialized (
      select a.id from alerts a
      where a.status = 'open'
        -- a retired device's alerts end (retiring closes them; this catches any left behind)
        and (exists (select 1 from devices d where d.id = a.device_id and d.lifecycle <> 'active')
        or case when a.kind = 'offline'
          then not ${offlineOn}::boolean
            or exists (select 1 from devices d where d.id = a.device_id and d.last_seen_at >= ${cutoff}::timestamptz)
          else not exists (select 1 from cur where cur.device_id = a.device_id and cur.kind = a.kind)
            and not exists (select 1 from waiting w where w.device_id = a.device_id and w.kind = a.kind)
        end)
      -- a batch at a time (a whole fleet coming back): the rest resolve in the next statement
      limit ${batch.size + 1}
    ),
    resolved as (
      update alerts a set status = 'resolved', resolved_at = ${now}::timestamptz
      -- (status rechecked on the row as it is now: an alert another transaction resolved meanwhile,
      -- a device's retirement, keeps its resolution and is not told twice)
      where a.id in (select id from ending limit ${batch.size}) and a.status = 'open'
      returning a.id, a.device_id
    ),
    candidates_all as (
      select device_id, 'offline'::text as kind, since from due
      union all
      select armed.device_id, armed.kind, coalesce(c.since, ${now}::timestamptz)
      from armed left join alert_conditions c on c.device_id = armed.device_id and c.kind = armed.kind
      where coalesce(c.since, ${now}::timestamptz) <= ${holdCutoff}::timestamptz
        -- only alerts still to open: standing ones (their condition the longest-standing) would fill the batch
        and ${stillToOpen(sql`armed.device_id`, sql`armed.kind`)}
    ),
    -- a batch at a time, the longest-standing first (a whole fleet going offline): the rest next statement
    candidates as materialized (
      select * from candidates_all order by since, device_id, kind limit ${batch.size}
    ),
    opened as (
      insert into alerts (device_id, kind, condition_since, opened_at, details)
      select x.device_id, x.kind, x.since, ${now}::timestamptz,
        -- what raised it, read only for the alerts that open
        (select case x.kind
            when 'offline' then jsonb_build_object('lastSeenAt', d.last_seen_at)
            when 'low_battery' then jsonb_build_object('batteryLevel', d.battery_level)
            when 'app_down' then jsonb_build_object('package', d.app_package, 'running', d.app_running, 'foreground', d.app_foreground)
            else jsonb_build_object('lastFrameAgeMs', d.app_last_frame_age_ms) end
         from devices d where d.id = x.device_id)
      -- (every candidate is still to open: due and candidates_all checked it)
      from candidates x
      on conflict (device_id, kind) where status = 'open' do nothing
      returning id, kind, device_id
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
      ((select count(*) from told_opened) + (select count(*) from told_resolved))::int as notices,
      array(select device_id from opened union select device_id from resolved
        union select id from crossed where last_seen_at >= ${newlyOfflineFrom}::timestamptz) as changed,
      -- more than a batch to open or to resolve: the sweep runs another statement
      ((select count(*) from candidates_all) > ${batch.size} or (select count(*) from ending) > ${batch.size}) as more,
      -- the offline devices left for a later statement: the next ones look back to the oldest of them
      (select min(u.since) from due u
        where not exists (select 1 from candidates c where c.device_id = u.device_id and c.kind = 'offline')) as backlog_from`;
}
