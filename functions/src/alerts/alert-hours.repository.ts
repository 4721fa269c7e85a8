import type { Db } from '../ports/db.js';
import type { Weekly } from './alert-hours.js';

/**
 * Alert hours of groups (group_alert_hours), their maintenance windows (group_maintenance_windows)
 * and device snoozes (device_snoozes). Plain functions over `db` or a transaction.
 */

export async function groupExists(db: Db, groupId: string): Promise<boolean> {
  return Boolean(await db.selectFrom('device_groups').select('id').where('id', '=', groupId).executeTakeFirst());
}

export async function deviceExists(db: Db, deviceId: string): Promise<boolean> {
  return Boolean(await db.selectFrom('devices').select('id').where('id', '=', deviceId).executeTakeFirst());
}

export async function findHours(db: Db, groupId: string) {
  return db.selectFrom('group_alert_hours').selectAll().where('group_id', '=', groupId).executeTakeFirst();
}

export async function upsertHours(db: Db, h: { groupId: string; timeZone: string; weekly: Weekly; at: Date; by: string }) {
  const values = { time_zone: h.timeZone, weekly: JSON.stringify(h.weekly), updated_at: h.at, updated_by: h.by };
  await db
    .insertInto('group_alert_hours')
    .values({ group_id: h.groupId, ...values })
    .onConflict((oc) => oc.column('group_id').doUpdateSet(values))
    .execute();
}

export async function deleteHours(db: Db, groupId: string): Promise<boolean> {
  const r = await db.deleteFrom('group_alert_hours').where('group_id', '=', groupId).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** A group's windows that have not ended before `since`, soonest first. */
export async function listWindows(db: Db, groupId: string, since: Date) {
  return db
    .selectFrom('group_maintenance_windows')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('ends_at', '>', since)
    .orderBy('starts_at')
    .orderBy('id')
    .execute();
}

export async function insertWindow(db: Db, w: { groupId: string; startsAt: Date; endsAt: Date; reason: string; at: Date; by: string }) {
  return db
    .insertInto('group_maintenance_windows')
    .values({ group_id: w.groupId, starts_at: w.startsAt, ends_at: w.endsAt, reason: w.reason, created_at: w.at, created_by: w.by })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteWindow(db: Db, groupId: string, windowId: string) {
  return db
    .deleteFrom('group_maintenance_windows')
    .where('id', '=', windowId)
    .where('group_id', '=', groupId)
    .returningAll()
    .executeTakeFirst();
}

/** Every group's hours, and the windows that meet [from, to]: what the sweep evaluates. */
export async function hoursForSweep(db: Db, from: Date, to: Date) {
  const [hours, windows] = await Promise.all([
    db.selectFrom('group_alert_hours').select(['group_id', 'time_zone', 'weekly']).execute(),
    db
      .selectFrom('group_maintenance_windows')
      .select(['group_id', 'starts_at', 'ends_at'])
      .where('ends_at', '>', from)
      .where('starts_at', '<=', to)
      .execute(),
  ]);
  return { hours, windows };
}

export async function findSnooze(db: Db, deviceId: string) {
  return db.selectFrom('device_snoozes').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
}

export async function upsertSnooze(db: Db, s: { deviceId: string; until: Date; reason: string; at: Date; by: string }) {
  const values = { until: s.until, reason: s.reason, created_at: s.at, created_by: s.by };
  await db
    .insertInto('device_snoozes')
    .values({ device_id: s.deviceId, ...values })
    .onConflict((oc) => oc.column('device_id').doUpdateSet(values))
    .execute();
}

/**
 * Ends a snooze now. The row stays with `until` = now: the sweep's offline clock of the device starts
 * here, as it does when a snooze runs out. Returns false when the device was not snoozed.
 */
export async function endSnooze(db: Db, deviceId: string, at: Date): Promise<boolean> {
  const r = await db
    .updateTable('device_snoozes')
    .set({ until: at })
    .where('device_id', '=', deviceId)
    .where('until', '>', at)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}
