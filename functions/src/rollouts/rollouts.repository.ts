import { sql } from 'kysely';
import type { Db } from '../ports/db.js';
import type { CohortHealth, Margin, RolloutState, Verdict, WaveState } from './rollouts.schemas.js';

/**
 * The rollouts' SQL (rollouts, rollout_waves, rollout_devices) and the reads of the devices, heartbeats
 * and device events the gate measures. Every transition is an UPDATE guarded by the state it leaves,
 * so a second engine or an operator acting at the same moment changes nothing (0 rows).
 */

export interface RolloutRow {
  id: string;
  name: string;
  package_name: string;
  from_release_id: string;
  to_release_id: string;
  from_version_code: number;
  to_version_code: number;
  group_id: string | null;
  group_name: string | null;
  allow_downgrade: boolean;
  rollback_on_failure: boolean;
  soak_sec: number;
  install_timeout_sec: number;
  margin: Margin;
  state: RolloutState;
  current_wave: number | null;
  paused_reason: string | null;
  created_at: Date;
  created_by_email: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface WaveRow {
  rollout_id: string;
  idx: number;
  size_kind: 'percent' | 'count';
  size_value: number;
  device_count: number;
  state: WaveState;
  installing_at: Date | null;
  soaking_at: Date | null;
  decided_at: Date | null;
  verdict: Verdict | null;
  pending: number;
  updated: number;
  unsent: number;
  rollback_sent: number;
  rolled_back: number;
}

const ROLLOUT_COLUMNS = sql`r.id, r.name, r.package_name, r.from_release_id, r.to_release_id, r.from_version_code,
  r.to_version_code, r.group_id, g.name as group_name, r.allow_downgrade, r.rollback_on_failure, r.soak_sec,
  r.install_timeout_sec, r.margin, r.state, r.current_wave, r.paused_reason, r.created_at, a.email as created_by_email,
  r.started_at, r.finished_at`;

/**
 * "The device runs this package at this versionCode", as its heartbeat says (alias d): for the agent
 * package the agent's own versionCode (devices.agent_version_code, heartbeat `agentVersionCode`), for
 * any other package the kiosk app's (app_package and app_version_code).
 */
export function runs(packageName: string, versionCode: number, agentPackage: string) {
  return packageName === agentPackage
    ? sql`d.agent_version_code = ${versionCode}`
    : sql`d.app_package = ${packageName} and d.app_version_code = ${versionCode}`;
}

export async function findGroupId(db: Db, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('device_groups').select('id').where('name', '=', name).executeTakeFirst();
  return row?.id;
}

export async function insertRollout(
  db: Db,
  r: {
    id: string;
    name: string;
    packageName: string;
    from: { id: string; versionCode: number };
    to: { id: string; versionCode: number };
    groupId: string | null;
    allowDowngrade: boolean;
    rollbackOnFailure: boolean;
    soakSec: number;
    installTimeoutSec: number;
    margin: Margin;
    createdBy: string | null;
    at: Date;
    waves: { kind: 'percent' | 'count'; value: number }[];
  },
): Promise<void> {
  await sql`insert into rollouts (id, name, package_name, from_release_id, to_release_id, from_version_code, to_version_code,
      group_id, allow_downgrade, rollback_on_failure, soak_sec, install_timeout_sec, margin, state, created_at, created_by, updated_at)
    values (${r.id}, ${r.name}, ${r.packageName}, ${r.from.id}, ${r.to.id}, ${r.from.versionCode}, ${r.to.versionCode},
      ${r.groupId}, ${r.allowDowngrade}, ${r.rollbackOnFailure}, ${r.soakSec}, ${r.installTimeoutSec},
      ${JSON.stringify(r.margin)}::jsonb, 'draft', ${r.at}, ${r.createdBy}, ${r.at})`.execute(db);
  await sql`insert into rollout_waves (rollout_id, idx, size_kind, size_value)
    select ${r.id}, w.idx - 1, w.kind, w.value
    from unnest(${r.waves.map((w) => w.kind)}::text[], ${r.waves.map((w) => w.value)}::int[]) with ordinality as w(kind, value, idx)`.execute(
    db,
  );
}

export async function getRollout(db: Db, id: string, lock = false): Promise<RolloutRow | undefined> {
  const { rows } = await sql<RolloutRow>`select ${ROLLOUT_COLUMNS}
    from rollouts r left join device_groups g on g.id = r.group_id left join admins a on a.id = r.created_by
    where r.id = ${id} ${lock ? sql`for update of r` : sql``}`.execute(db);
  return rows[0];
}

export async function listRollouts(db: Db, q: { limit: number; state?: RolloutState | undefined }): Promise<RolloutRow[]> {
  const { rows } = await sql<RolloutRow>`select ${ROLLOUT_COLUMNS}
    from rollouts r left join device_groups g on g.id = r.group_id left join admins a on a.id = r.created_by
    ${q.state ? sql`where r.state = ${q.state}` : sql``}
    order by r.created_at desc, r.id desc limit ${q.limit}`.execute(db);
  return rows;
}

/** The rollouts the engine looks at: running ones, and stopped ones that may still have rollbacks to send or see. */
export async function activeRolloutIds(db: Db, recentSince: Date): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select id from rollouts
    where state = 'running' or (state in ('paused', 'rolled_back') and (finished_at is null or finished_at > ${recentSince}))
    order by created_at`.execute(db);
  return rows.map((r) => r.id);
}

/** The waves of some rollouts with their device counts. */
export async function listWaves(db: Db, ids: string[]): Promise<WaveRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<WaveRow>`select w.*,
      coalesce(c.pending, 0)::int as pending, coalesce(c.updated, 0)::int as updated, coalesce(c.unsent, 0)::int as unsent,
      coalesce(c.rollback_sent, 0)::int as rollback_sent, coalesce(c.rolled_back, 0)::int as rolled_back
    from rollout_waves w
    left join lateral (
      select count(*) filter (where d.install_claimed_at is not null and d.updated_at is null) as pending,
        count(*) filter (where d.updated_at is not null) as updated,
        count(*) filter (where d.install_claimed_at is null) as unsent,
        count(*) filter (where d.rollback_claimed_at is not null) as rollback_sent,
        count(*) filter (where d.rolled_back_at is not null) as rolled_back
      from rollout_devices d where d.rollout_id = w.rollout_id and d.wave = w.idx
    ) c on true
    where w.rollout_id = any(${ids}::uuid[])
    order by w.rollout_id, w.idx`.execute(db);
  return rows;
}

/** The devices a rollout moves: active, in its group (or any), reporting A's package and versionCode. */
export async function countEligible(
  db: Db,
  r: Pick<RolloutRow, 'group_id' | 'package_name' | 'from_version_code'>,
  agentPackage: string,
): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from devices d
    where d.lifecycle = 'active' and ${runs(r.package_name, r.from_version_code, agentPackage)}
      and ${r.group_id === null ? sql`true` : sql`d.group_id = ${r.group_id}`}`.execute(db);
  return rows[0]!.n;
}

/**
 * Assigns the eligible devices to waves in a stable hash order (md5 of the rollout's id and the
 * device's id: the same devices go first however the table is laid out, and another rollout picks
 * another first wave). `cuts[i]` is the end (exclusive) of wave i in that order.
 */
export async function assignDevices(
  db: Db,
  r: Pick<RolloutRow, 'id' | 'group_id' | 'package_name' | 'from_version_code'>,
  cuts: number[],
  agentPackage: string,
): Promise<void> {
  const starts = cuts.map((_, i) => (i === 0 ? 0 : cuts[i - 1]!));
  await sql`insert into rollout_devices (rollout_id, device_id, wave, ord)
    select ${r.id}, o.id, w.idx - 1, o.ord from (
      select d.id, (row_number() over (order by md5(${r.id}::text || d.id::text), d.id) - 1)::int as ord
      from devices d
      where d.lifecycle = 'active' and ${runs(r.package_name, r.from_version_code, agentPackage)}
        and ${r.group_id === null ? sql`true` : sql`d.group_id = ${r.group_id}`}
    ) o
    join unnest(${starts}::int[], ${cuts}::int[]) with ordinality as w(lo, hi, idx) on o.ord >= w.lo and o.ord < w.hi`.execute(db);
  await sql`update rollout_waves w set device_count = (select count(*) from rollout_devices d where d.rollout_id = w.rollout_id and d.wave = w.idx)
    where w.rollout_id = ${r.id}`.execute(db);
}

/** A guarded change of a rollout's state; false when it was not in one of `from`. */
export async function setRolloutState(
  db: Db,
  id: string,
  from: RolloutState[],
  to: RolloutState,
  at: Date,
  extra: { currentWave?: number; pausedReason?: string | null; started?: boolean; finished?: boolean } = {},
): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`update rollouts set state = ${to}, updated_at = ${at}
      ${extra.currentWave === undefined ? sql`` : sql`, current_wave = ${extra.currentWave}`}
      ${extra.pausedReason === undefined ? sql`` : sql`, paused_reason = ${extra.pausedReason}`}
      ${extra.started ? sql`, started_at = ${at}` : sql``}
      ${extra.finished ? sql`, finished_at = ${at}` : sql``}
    where id = ${id} and state = any(${from}::text[]) returning id`.execute(db);
  return rows.length === 1;
}

/** Moves the rollout on to wave `next` while it is running at wave `next - 1`. */
export async function advanceWave(db: Db, id: string, next: number, at: Date): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`update rollouts set current_wave = ${next}, updated_at = ${at}
    where id = ${id} and state = 'running' and current_wave = ${next - 1} returning id`.execute(db);
  return rows.length === 1;
}

/** A guarded change of a wave's state (the rollout must be in one of `rolloutStates`). */
export async function setWaveState(
  db: Db,
  id: string,
  idx: number,
  from: WaveState[],
  to: WaveState,
  at: Date,
  rolloutStates: RolloutState[],
  verdict?: Verdict,
): Promise<boolean> {
  const column = to === 'installing' ? sql`installing_at` : to === 'soaking' ? sql`soaking_at` : sql`decided_at`;
  const { rows } = await sql<{ idx: number }>`update rollout_waves w set state = ${to}, ${column} = ${at}
      ${verdict ? sql`, verdict = ${JSON.stringify(verdict)}::jsonb` : sql``}
    where w.rollout_id = ${id} and w.idx = ${idx} and w.state = any(${from}::text[])
      and exists (select 1 from rollouts r where r.id = ${id} and r.state = any(${rolloutStates}::text[]))
    returning w.idx`.execute(db);
  return rows.length === 1;
}

/**
 * Devices that now report the version they were sent: B after the install (updated), A after the
 * rollback (rolled back). Only a heartbeat received after the command was claimed counts, never the
 * command's own result.
 */
export async function markReported(
  db: Db,
  r: Pick<RolloutRow, 'id' | 'package_name' | 'from_version_code' | 'to_version_code'>,
  at: Date,
  agentPackage: string,
) {
  const updated = await sql`update rollout_devices rd set updated_at = ${at}
    from devices d
    where rd.rollout_id = ${r.id} and rd.install_claimed_at is not null and rd.updated_at is null and rd.rollback_claimed_at is null
      and d.id = rd.device_id and ${runs(r.package_name, r.to_version_code, agentPackage)}
      and d.last_seen_at > rd.install_claimed_at`.execute(db);
  const rolledBack = await sql`update rollout_devices rd set rolled_back_at = ${at}
    from devices d
    where rd.rollout_id = ${r.id} and rd.rollback_claimed_at is not null and rd.rolled_back_at is null
      and d.id = rd.device_id and ${runs(r.package_name, r.from_version_code, agentPackage)}
      and d.last_seen_at > rd.rollback_claimed_at`.execute(db);
  return { updated: Number(updated.numAffectedRows ?? 0), rolledBack: Number(rolledBack.numAffectedRows ?? 0) };
}

/**
 * Claims the wave's devices that have not been sent B (active ones, while the rollout runs): each is
 * claimed once, ever, so B is never sent twice to a device.
 */
export async function claimInstalls(db: Db, id: string, wave: number, at: Date): Promise<string[]> {
  const { rows } = await sql<{ device_id: string }>`update rollout_devices rd set install_claimed_at = ${at}
    from devices d
    where rd.rollout_id = ${id} and rd.wave = ${wave} and rd.install_claimed_at is null
      and d.id = rd.device_id and d.lifecycle = 'active'
      and exists (select 1 from rollouts r where r.id = ${id} and r.state = 'running')
    returning rd.device_id`.execute(db);
  return rows.map((r) => r.device_id);
}

/** Claims the devices whose rollback was asked for and not yet sent. */
export async function claimRollbacks(db: Db, id: string, at: Date): Promise<string[]> {
  const { rows } = await sql<{ device_id: string }>`update rollout_devices rd set rollback_claimed_at = ${at}
    from devices d
    where rd.rollout_id = ${id} and rd.rollback_requested_at is not null and rd.rollback_claimed_at is null
      and d.id = rd.device_id and d.lifecycle = 'active'
    returning rd.device_id`.execute(db);
  return rows.map((r) => r.device_id);
}

/** Records the commands that carried the claimed installs or rollbacks. */
export async function recordCommands(db: Db, id: string, kind: 'install' | 'rollback', sent: { deviceId: string; commandId: string }[]) {
  if (sent.length === 0) return;
  const column = kind === 'install' ? sql`install_command_id` : sql`rollback_command_id`;
  await sql`update rollout_devices rd set ${column} = s.cid
    from unnest(${sent.map((s) => s.deviceId)}::uuid[], ${sent.map((s) => s.commandId)}::uuid[]) as s(did, cid)
    where rd.rollout_id = ${id} and rd.device_id = s.did`.execute(db);
}

/** Gives back claims whose command could not be written (the next tick tries again). */
export async function releaseClaims(db: Db, id: string, kind: 'install' | 'rollback', deviceIds: string[]) {
  if (deviceIds.length === 0) return;
  const claimed = kind === 'install' ? sql`install_claimed_at` : sql`rollback_claimed_at`;
  const command = kind === 'install' ? sql`install_command_id` : sql`rollback_command_id`;
  await sql`update rollout_devices set ${claimed} = null
    where rollout_id = ${id} and device_id = any(${deviceIds}::uuid[]) and ${command} is null`.execute(db);
}

/** Asks for the rollback of the devices sent B (of one wave, or all of them). */
export async function requestRollback(db: Db, id: string, wave: number | null, at: Date): Promise<number> {
  const res = await sql`update rollout_devices set rollback_requested_at = ${at}
    where rollout_id = ${id} and install_claimed_at is not null and rollback_requested_at is null
      ${wave === null ? sql`` : sql`and wave = ${wave}`}`.execute(db);
  return Number(res.numAffectedRows ?? 0);
}

/** Claims a failed wave's alert (once). */
export async function claimWaveAlert(db: Db, id: string, idx: number, at: Date): Promise<boolean> {
  const { rows } = await sql`update rollout_waves set alerted_at = ${at}
    where rollout_id = ${id} and idx = ${idx} and state = 'failed' and alerted_at is null returning idx`.execute(db);
  return rows.length === 1;
}

export async function unclaimWaveAlert(db: Db, id: string, idx: number): Promise<void> {
  await sql`update rollout_waves set alerted_at = null where rollout_id = ${id} and idx = ${idx}`.execute(db);
}

/** Failed waves whose alert is still to be raised. */
export async function unalertedFailures(db: Db, id: string): Promise<number[]> {
  const { rows } = await sql<{ idx: number }>`select idx from rollout_waves
    where rollout_id = ${id} and state = 'failed' and alerted_at is null`.execute(db);
  return rows.map((r) => r.idx);
}

/** The crash and relaunch events the gate counts (the agent's watchdog and the simulator report these). */
export const CRASH_EVENT_TYPES = ['app.crash', 'app.crash_loop', 'app.relaunched'];

/**
 * The health of the two cohorts the gate compares, over what heartbeats and device events say:
 * - `wave`: the wave's devices that report B, each from the later of its update and the soak's start;
 * - `baseline`: the rollout's devices never sent B that still report A, from the soak's start.
 * Per cohort: heartbeats (samples), the share of them with the app not running or not in front
 * (app down, the sweep's rule) and with a frame older than `frameAgeMs` (frozen), the share of
 * devices offline now (last contact older than `offlineAfterSec`), and crash/relaunch events per
 * device-hour observed.
 */
export async function cohortHealth(
  db: Db,
  r: Pick<RolloutRow, 'id' | 'package_name' | 'from_version_code'>,
  wave: number,
  since: Date,
  now: Date,
  t: { frameAgeMs: number; offlineAfterSec: number },
  agentPackage: string,
): Promise<{ wave: CohortHealth; baseline: CohortHealth }> {
  const offlineCutoff = new Date(now.getTime() - t.offlineAfterSec * 1000);
  const { rows } = await sql<{
    cohort: 'wave' | 'baseline';
    devices: number;
    samples: number;
    down: number;
    frozen: number;
    offline: number;
    crashes: number;
    device_hours: number;
  }>`
    with cohort as (
      select rd.device_id, 'wave'::text as cohort, greatest(rd.updated_at, ${since}::timestamptz) as since
      from rollout_devices rd where rd.rollout_id = ${r.id} and rd.wave = ${wave} and rd.updated_at is not null
      union all
      select rd.device_id, 'baseline', ${since}::timestamptz
      from rollout_devices rd join devices d on d.id = rd.device_id
      where rd.rollout_id = ${r.id} and rd.install_claimed_at is null and d.lifecycle = 'active'
        and ${runs(r.package_name, r.from_version_code, agentPackage)}
    ),
    per_device as (
      select c.cohort, c.device_id, c.since,
        (select count(*) from heartbeats h where h.device_id = c.device_id and h.received_at >= c.since and h.received_at <= ${now}::timestamptz) as samples,
        (select count(*) from heartbeats h where h.device_id = c.device_id and h.received_at >= c.since and h.received_at <= ${now}::timestamptz
          and (not h.app_running or not h.app_foreground)) as down,
        (select count(*) from heartbeats h where h.device_id = c.device_id and h.received_at >= c.since and h.received_at <= ${now}::timestamptz
          and h.app_running and h.app_foreground and h.app_last_frame_age_ms > ${t.frameAgeMs}::int) as frozen,
        (select count(*) from device_events e where e.device_id = c.device_id and e.received_at >= c.since
          and e.received_at <= ${now}::timestamptz and e.type = any(${CRASH_EVENT_TYPES}::text[])) as crashes,
        (select d.last_seen_at < ${offlineCutoff}::timestamptz from devices d where d.id = c.device_id) as offline
      from cohort c
    )
    select cohort, count(*)::int as devices, coalesce(sum(samples), 0)::int as samples, coalesce(sum(down), 0)::int as down,
      coalesce(sum(frozen), 0)::int as frozen, (count(*) filter (where offline))::int as offline,
      coalesce(sum(crashes), 0)::int as crashes,
      coalesce(sum(greatest(extract(epoch from (${now}::timestamptz - since)), 0)) / 3600.0, 0)::float8 as device_hours
    from per_device group by cohort`.execute(db);
  const of = (cohort: 'wave' | 'baseline'): CohortHealth => {
    const c = rows.find((x) => x.cohort === cohort);
    if (!c)
      return { devices: 0, samples: 0, appDownPct: 0, frozenPct: 0, offlinePct: 0, crashes: 0, deviceHours: 0, crashesPerDeviceHour: 0 };
    const pct = (n: number, of: number) => (of === 0 ? 0 : round((100 * n) / of));
    return {
      devices: c.devices,
      samples: c.samples,
      appDownPct: pct(c.down, c.samples),
      frozenPct: pct(c.frozen, c.samples),
      offlinePct: pct(c.offline, c.devices),
      crashes: c.crashes,
      deviceHours: round(c.device_hours, 4),
      crashesPerDeviceHour: c.device_hours > 0 ? round(c.crashes / c.device_hours) : 0,
    };
  };
  return { wave: of('wave'), baseline: of('baseline') };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
