import type { Db } from '../ports/db.js';
import { evaluateHours, HORIZON_MS, type GroupHours, type TimeRange, type Weekly } from './alert-hours.js';
import { hoursForSweep } from './alert-hours.repository.js';
import type { AlertSettings } from './alerts.schemas.js';
import { lastSweptAt, raiseSweepWorkMem, recordSweep, runSweepStatement, tryLockSweep, type GroupClocks } from './sweep.repository.js';

export interface SweepResult {
  /** false when another sweep held the lock: it did this round's work. */
  ran: boolean;
  opened: number;
  resolved: number;
  notices: number;
  /** Devices whose live document changed: alerts opened or resolved, or gone offline. */
  changedDevices: string[];
}

/**
 * Raises and resolves alerts from the devices' latest state, set-based, in one statement per sweep
 * (sweep.repository.ts). A transaction-scoped advisory lock makes concurrent sweeps one: no alert or
 * notice twice. The groups' alert hours are evaluated here first (a few rows) and passed in.
 */
export async function sweep(db: Db, settings: AlertSettings, now: Date): Promise<SweepResult> {
  return db.transaction().execute(async (trx) => {
    if (!(await tryLockSweep(trx))) return { ran: false, opened: 0, resolved: 0, notices: 0, changedDevices: [] };
    await raiseSweepWorkMem(trx);
    const last = await lastSweptAt(trx);
    const clocks = await groupClocks(trx, now);
    const r = await runSweepStatement(trx, settings, now, last, clocks);
    await recordSweep(trx, now);
    return { ran: true, opened: r.opened, resolved: r.resolved, notices: r.notices, changedDevices: r.changed ?? [] };
  });
}

/** Which groups are quiet now, and which opened within the horizon (and when). */
export async function groupClocks(db: Db, now: Date): Promise<GroupClocks> {
  const { hours, windows } = await hoursForSweep(db, new Date(now.getTime() - HORIZON_MS), now);
  const byGroup = new Map<string, { hours: GroupHours | null; windows: TimeRange[] }>();
  const entry = (id: string) => byGroup.get(id) ?? byGroup.set(id, { hours: null, windows: [] }).get(id)!;
  for (const h of hours) entry(h.group_id).hours = { timeZone: h.time_zone, weekly: h.weekly as Weekly };
  for (const w of windows) entry(w.group_id).windows.push({ start: w.starts_at.getTime(), end: w.ends_at.getTime() });
  const clocks: GroupClocks = { quiet: [], opened: [] };
  for (const [groupId, g] of byGroup) {
    const verdict = evaluateHours(g.hours, g.windows, now);
    if (verdict.quiet) clocks.quiet.push(groupId);
    else if (verdict.openSince) clocks.opened.push({ groupId, since: verdict.openSince });
  }
  return clocks;
}
