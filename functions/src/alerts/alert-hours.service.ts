import type { AuditService } from '../audit/index.js';
import { badRequest, notFound } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import { evaluateHours, HORIZON_MS, isTimeZone, weeklyProblem, type GroupHours, type Weekly } from './alert-hours.js';
import {
  deleteHours,
  deleteWindow,
  deviceExists,
  endSnooze,
  findHours,
  findSnooze,
  groupExists,
  insertWindow,
  listWindows,
  upsertHours,
  upsertSnooze,
} from './alert-hours.repository.js';
import type { AlertHoursBody, MaintenanceWindowBody, SnoozeBody } from './alert-hours.schemas.js';
import { forgetLastSweep } from './sweep.repository.js';

/** How far ahead a window or a snooze may reach: a year. */
const MAX_AHEAD_MS = 366 * 24 * 3600_000;

/**
 * Alert hours and maintenance windows of groups, and device snoozes (docs/alerts-hours.md). Every change
 * makes the next sweep read the whole fleet again, so devices whose offline clock moved are looked at.
 */
export class AlertHoursService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  async get(groupId: string) {
    if (!(await groupExists(this.db, groupId))) throw notFound('group');
    const now = this.clock.now();
    const [row, windows] = await Promise.all([
      findHours(this.db, groupId),
      listWindows(this.db, groupId, new Date(now.getTime() - HORIZON_MS)),
    ]);
    const hours: GroupHours | null = row ? { timeZone: row.time_zone, weekly: row.weekly as Weekly } : null;
    const verdict = evaluateHours(
      hours,
      windows.map((w) => ({ start: w.starts_at.getTime(), end: w.ends_at.getTime() })),
      now,
    );
    return {
      groupId,
      hours,
      windows: windows
        .filter((w) => w.ends_at > now)
        .map((w) => ({ id: w.id, startsAt: w.starts_at, endsAt: w.ends_at, reason: w.reason })),
      quietNow: verdict.quiet,
      openSince: verdict.openSince,
    };
  }

  async setHours(actor: AdminActor, groupId: string, body: AlertHoursBody, ip: string) {
    if (!isTimeZone(body.timeZone)) throw badRequest('invalid_time_zone', `${body.timeZone} is not a known IANA time zone`);
    const weekly = sortedWeekly(body.weekly);
    const problem = weeklyProblem(weekly);
    if (problem === 'overlapping_ranges') throw badRequest(problem, 'two ranges of the same day overlap');
    if (problem) throw badRequest(problem, 'a range must end after it starts ([startMinute, endMinute), end up to 1440)');
    await this.db.transaction().execute(async (trx) => {
      if (!(await groupExists(trx, groupId))) throw notFound('group');
      await upsertHours(trx, { groupId, timeZone: body.timeZone, weekly, at: this.clock.now(), by: actor.id });
      await forgetLastSweep(trx);
      await this.audit.record(
        trx,
        actor,
        { action: 'updated_alert_hours', target: { type: 'group', id: groupId }, details: { timeZone: body.timeZone, weekly } },
        ip,
      );
    });
    return this.get(groupId);
  }

  async clearHours(actor: AdminActor, groupId: string, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      if (!(await groupExists(trx, groupId))) throw notFound('group');
      if (!(await deleteHours(trx, groupId))) return;
      await forgetLastSweep(trx);
      await this.audit.record(
        trx,
        actor,
        { action: 'updated_alert_hours', target: { type: 'group', id: groupId }, details: { timeZone: null, weekly: null } },
        ip,
      );
    });
    return this.get(groupId);
  }

  async addWindow(actor: AdminActor, groupId: string, body: MaintenanceWindowBody, ip: string) {
    const startsAt = new Date(body.startsAt);
    const endsAt = new Date(body.endsAt);
    const now = this.clock.now();
    if (endsAt <= startsAt) throw badRequest('window_end_before_start', 'a maintenance window must end after it starts');
    if (endsAt <= now) throw badRequest('window_in_past', 'the maintenance window is already over');
    if (endsAt.getTime() > now.getTime() + MAX_AHEAD_MS) throw badRequest('window_too_far', 'a maintenance window must end within a year');
    const reason = body.reason ?? '';
    const row = await this.db.transaction().execute(async (trx) => {
      if (!(await groupExists(trx, groupId))) throw notFound('group');
      const w = await insertWindow(trx, { groupId, startsAt, endsAt, reason, at: now, by: actor.id });
      await forgetLastSweep(trx);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'created_maintenance_window',
          target: { type: 'group', id: groupId },
          details: { windowId: w.id, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), reason },
        },
        ip,
      );
      return w;
    });
    return { id: row.id, startsAt: row.starts_at, endsAt: row.ends_at, reason: row.reason };
  }

  async removeWindow(actor: AdminActor, groupId: string, windowId: string, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      const w = await deleteWindow(trx, groupId, windowId);
      if (!w) throw notFound('maintenance window');
      await forgetLastSweep(trx);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'deleted_maintenance_window',
          target: { type: 'group', id: groupId },
          details: { windowId, startsAt: w.starts_at.toISOString(), endsAt: w.ends_at.toISOString(), reason: w.reason },
        },
        ip,
      );
    });
  }

  async snoozeOf(deviceId: string) {
    if (!(await deviceExists(this.db, deviceId))) throw notFound('device');
    const row = await findSnooze(this.db, deviceId);
    const active = row && row.until > this.clock.now();
    return { deviceId, until: active ? row.until : null, reason: active ? row.reason : null };
  }

  async snooze(actor: AdminActor, deviceId: string, body: SnoozeBody, ip: string) {
    const until = new Date(body.until);
    const now = this.clock.now();
    if (until <= now) throw badRequest('snooze_in_past', 'a snooze must end in the future');
    if (until.getTime() > now.getTime() + MAX_AHEAD_MS) throw badRequest('snooze_too_far', 'a snooze must end within a year');
    const reason = body.reason ?? '';
    await this.db.transaction().execute(async (trx) => {
      if (!(await deviceExists(trx, deviceId))) throw notFound('device');
      await upsertSnooze(trx, { deviceId, until, reason, at: now, by: actor.id });
      await this.audit.record(
        trx,
        actor,
        { action: 'snoozed_device', target: { type: 'device', id: deviceId }, deviceId, details: { until: until.toISOString(), reason } },
        ip,
      );
    });
    return this.snoozeOf(deviceId);
  }

  async unsnooze(actor: AdminActor, deviceId: string, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      if (!(await deviceExists(trx, deviceId))) throw notFound('device');
      if (!(await endSnooze(trx, deviceId, this.clock.now()))) return;
      await this.audit.record(
        trx,
        actor,
        { action: 'unsnoozed_device', target: { type: 'device', id: deviceId }, deviceId, details: {} },
        ip,
      );
    });
    return this.snoozeOf(deviceId);
  }
}

/** Ranges sorted by start, days in week order: what is stored and shown. */
function sortedWeekly(weekly: Weekly): Weekly {
  const out: Weekly = {};
  for (const [day, ranges] of Object.entries(weekly) as [keyof Weekly, [number, number][] | undefined][]) {
    if (ranges && ranges.length > 0) out[day] = [...ranges].sort((a, b) => a[0] - b[0]);
  }
  return out;
}
