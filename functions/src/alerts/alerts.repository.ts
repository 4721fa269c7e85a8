import { sql } from 'kysely';
import type { Db } from '../ports/db.js';
import type { AlertRemediation } from '../ports/schema.generated.js';
import type { AlertKind } from './alert-kinds.js';

/**
 * The alerts, their self-healing steps (alert_remediations) and the settings row (alert_settings).
 * The sweep's statement and sweep_state are in sweep.repository.ts, the notice outbox and the
 * messages (alert_notices, notifications) in notifications.repository.ts. Plain functions over `db`
 * or a transaction, returning plain rows; transactions begin in the services.
 */

// --- alerts, for the admin API

/** Alerts with their device's name and group, who acknowledged them, and their self-healing steps. */
function alertsWithContext(db: Db) {
  return db
    .selectFrom('alerts as a')
    .innerJoin('devices as d', 'd.id', 'a.device_id')
    .leftJoin('device_groups as g', 'g.id', 'd.group_id')
    .leftJoin('admins as ad', 'ad.id', 'a.acknowledged_by')
    .selectAll('a')
    .select(['g.name as group_name', 'ad.email as acknowledged_by_email'])
    .select(sql<string>`coalesce(d.name, concat_ws(' ', d.model, d.serial))`.as('device_name'))
    .select(
      sql<RemediationJson[]>`coalesce((
          select json_agg(json_build_object('step', m.step, 'action', m.action, 'commandId', m.command_id,
            'commandStatus', c.status, 'takenAt', m.taken_at, 'outcome', m.outcome) order by m.step)
          from alert_remediations m left join commands c on c.id = m.command_id where m.alert_id = a.id), '[]'::json)`.as('remediation'),
    );
}

export interface RemediationJson {
  step: number;
  action: string;
  commandId: string | null;
  commandStatus: string | null;
  takenAt: string;
  outcome: string | null;
}

export type AlertRow = Awaited<ReturnType<ReturnType<typeof alertsWithContext>['executeTakeFirstOrThrow']>>;

export interface AlertFilter {
  status?: 'open' | 'resolved' | undefined;
  kind?: AlertKind | undefined;
  deviceId?: string | undefined;
  /** Keyset: alerts before this (opened_at, id). */
  after?: { at: Date; id: string } | undefined;
  limit: number;
}

/** Newest first, at most `limit` rows. */
export async function listAlerts(db: Db, f: AlertFilter): Promise<AlertRow[]> {
  let query = alertsWithContext(db).orderBy('a.opened_at', 'desc').orderBy('a.id', 'desc').limit(f.limit);
  if (f.status) query = query.where('a.status', '=', f.status);
  if (f.kind) query = query.where('a.kind', '=', f.kind);
  if (f.deviceId) query = query.where('a.device_id', '=', f.deviceId);
  const after = f.after;
  if (after) query = query.where((eb) => eb(eb.refTuple('a.opened_at', 'a.id'), '<', eb.tuple(after.at, after.id)));
  return query.execute();
}

export async function findAlert(db: Db, id: string): Promise<AlertRow | undefined> {
  return alertsWithContext(db).where('a.id', '=', id).executeTakeFirst();
}

/** The alert's row, locked until the transaction ends. */
export async function lockAlert(trx: Db, id: string) {
  return trx
    .selectFrom('alerts')
    .select(['id', 'kind', 'device_id', 'acknowledged_at'])
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function acknowledgeAlert(db: Db, id: string, at: Date, by: string): Promise<void> {
  await db.updateTable('alerts').set({ acknowledged_at: at, acknowledged_by: by }).where('id', '=', id).execute();
}

/**
 * Acknowledges, in one statement, the unacknowledged alerts among `ids` (any status), or the open,
 * unacknowledged alerts matching the filter. Returns the ids it acknowledged.
 */
export async function acknowledgeAlerts(
  db: Db,
  f: { ids?: string[] | undefined; kind?: AlertKind | undefined; deviceId?: string | undefined; groupId?: string | undefined },
  at: Date,
  by: string,
): Promise<string[]> {
  let q = db.updateTable('alerts').set({ acknowledged_at: at, acknowledged_by: by }).where('acknowledged_at', 'is', null);
  if (f.ids) q = q.where('id', 'in', f.ids);
  else q = q.where('status', '=', 'open');
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.deviceId) q = q.where('device_id', '=', f.deviceId);
  const groupId = f.groupId;
  if (groupId) q = q.where('device_id', 'in', (eb) => eb.selectFrom('devices').select('id').where('group_id', '=', groupId));
  const rows = await q.returning('id').execute();
  return rows.map((r) => r.id);
}

/** How many of these alert ids exist. */
export async function countAlerts(db: Db, ids: string[]): Promise<number> {
  const r = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id', 'in', ids)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

// --- settings

export async function findSettings(db: Db) {
  return db.selectFrom('alert_settings').select('settings').where('id', '=', 1).executeTakeFirst();
}

/**
 * Changes the given paths of the stored settings in one UPDATE (nested jsonb_set on the stored
 * document), so two admins changing different settings at once on different instances both keep
 * their change: no read-modify-write in between. The row is created from `initial` first when there is
 * none. Returns the settings as stored.
 */
export async function patchSettings(
  db: Db,
  s: { initial: string; sets: { path: string[]; value: unknown }[]; updatedAt: Date; updatedBy: string },
): Promise<unknown> {
  await db
    .insertInto('alert_settings')
    .values({ id: 1, settings: s.initial, updated_at: s.updatedAt, updated_by: s.updatedBy })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  let doc = sql`settings`;
  for (const { path, value } of s.sets) doc = sql`jsonb_set(${doc}, ${path}::text[], ${JSON.stringify(value)}::jsonb)`;
  const { rows } = await sql<{ settings: unknown }>`
    update alert_settings set settings = ${doc}, updated_at = ${s.updatedAt}::timestamptz, updated_by = ${s.updatedBy}::uuid
    where id = 1 returning settings`.execute(db);
  return rows[0]!.settings;
}

// --- self-healing steps (alert_remediations)

export type RemediationAction = AlertRemediation['action'];
export type RemediationOutcome = NonNullable<AlertRemediation['outcome']>;

/** An open alert that may heal, with its device's last contact, its latest step and that step's command. */
export interface HealableAlert {
  id: string;
  device_id: string;
  kind: string;
  last_seen_at: Date;
  step: number | null;
  action: RemediationAction | null;
  outcome: string | null;
  taken_at: Date | null;
  command_status: string | null;
  command_completed_at: Date | null;
  /** Self-healing commands sent to the device since `dayAgo`. */
  used_today: number;
  /** Another alert of the device escalated since `dayAgo`. */
  breaker_open: boolean;
}

/** Open, unacknowledged alerts of these kinds on devices seen since `onlineSince` (offline devices wait). */
export async function healableAlerts(db: Db, kinds: AlertKind[], dayAgo: Date, onlineSince: Date): Promise<HealableAlert[]> {
  const { rows } = await sql<HealableAlert>`
    select a.id, a.device_id, a.kind, d.last_seen_at, m.step, m.action, m.outcome, m.taken_at,
      c.status as command_status, c.completed_at as command_completed_at,
      (select count(*)::int from alert_remediations r
        where r.device_id = a.device_id and r.command_id is not null and r.taken_at > ${dayAgo}::timestamptz) as used_today,
      exists (select 1 from alert_remediations r where r.device_id = a.device_id and r.action = 'ESCALATE'
        and r.alert_id <> a.id and r.taken_at > ${dayAgo}::timestamptz) as breaker_open
    from alerts a
    join devices d on d.id = a.device_id
    left join lateral (select * from alert_remediations r where r.alert_id = a.id order by r.step desc limit 1) m on true
    left join commands c on c.id = m.command_id
    where a.status = 'open' and a.acknowledged_at is null and a.kind = any(${kinds}::text[])
      -- an offline device can do nothing: its ladder waits until it is back
      and d.last_seen_at >= ${onlineSince}::timestamptz`.execute(db);
  return rows;
}

/** Records the outcome of a step still open. */
export async function closeStep(db: Db, alertId: string, step: number, outcome: RemediationOutcome, at: Date): Promise<void> {
  await db
    .updateTable('alert_remediations')
    .set({ outcome, outcome_at: at })
    .where('alert_id', '=', alertId)
    .where('step', '=', step)
    .where('outcome', 'is', null)
    .execute();
}

/** Claims a step (unique per alert and step): the row's id, or undefined when another run had it. */
export async function claimStep(
  db: Db,
  s: { alertId: string; deviceId: string; step: number; action: RemediationAction; at: Date; outcome: RemediationOutcome | null },
) {
  return db
    .insertInto('alert_remediations')
    .values({
      alert_id: s.alertId,
      device_id: s.deviceId,
      step: s.step,
      action: s.action,
      taken_at: s.at,
      outcome: s.outcome,
      outcome_at: s.outcome ? s.at : null,
    })
    .onConflict((oc) => oc.columns(['alert_id', 'step']).doNothing())
    .returning('id')
    .executeTakeFirst();
}

export async function setStepCommand(db: Db, alertId: string, step: number, commandId: string): Promise<void> {
  await db
    .updateTable('alert_remediations')
    .set({ command_id: commandId })
    .where('alert_id', '=', alertId)
    .where('step', '=', step)
    .execute();
}

/** The commands the ladder tried for an alert, in order. */
export async function stepsTaken(db: Db, alertId: string) {
  return db
    .selectFrom('alert_remediations')
    .select('action')
    .where('alert_id', '=', alertId)
    .where('action', '!=', 'ESCALATE')
    .orderBy('step')
    .execute();
}

// --- retired devices

/**
 * Ends the open alerts of devices that were retired, in one statement: their conditions are
 * forgotten, the alerts resolve, openings nobody was told yet are not told, and self-healing steps
 * still waiting for an outcome end as not fixed. No resolution is told: the device was retired, not
 * repaired. Returns how many alerts resolved.
 */
export async function closeAlertsOfDevices(db: Db, deviceIds: string[], now: Date): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const { rows } = await sql<{ n: number }>`
    with forgotten as (
      delete from alert_conditions where device_id = any(${deviceIds}::uuid[])
    ), resolved as (
      update alerts set status = 'resolved', resolved_at = ${now}::timestamptz
      where device_id = any(${deviceIds}::uuid[]) and status = 'open'
      returning id
    ), untold as (
      delete from alert_notices n using resolved r where n.alert_id = r.id and n.type = 'opened' and n.notification_id is null
    ), steps as (
      update alert_remediations m set outcome = 'not_fixed', outcome_at = ${now}::timestamptz
      from resolved r where m.alert_id = r.id and m.outcome is null
    )
    select count(*)::int as n from resolved`.execute(db);
  return rows[0]?.n ?? 0;
}
