import type { Db } from '../ports/db.js';
import { evaluateHours, HORIZON_MS, type GroupHours, type TimeRange, type Weekly } from './alert-hours.js';
import { hoursForSweep } from './alert-hours.repository.js';
import type { AlertSettings } from './alerts.schemas.js';
import {
  raiseSweepWorkMem,
  recordSweep,
  runSweepStatement,
  SWEEP_BATCH,
  sweepState,
  tryLockSweep,
  type GroupClocks,
} from './sweep.repository.js';

export interface SweepResult {
  /** false when another sweep held the lock: it did this round's work. */
  ran: boolean;
  opened: number;
  resolved: number;
  notices: number;
  /** Devices whose live document changed: alerts opened or resolved, or gone offline. */
  changedDevices: string[];
  /** More to open or resolve than this round had time for: the next round goes on (SWEEP_BATCH). */
  more?: boolean;
}

export interface SweepLimits {
  /** Alerts opened, and resolved, at most per statement. */
  batch?: number;
  /** Another statement starts only within this many milliseconds of the first (on the process's clock). */
  budgetMs?: number;
}

/** A round that did nothing: another sweep held the lock, or (the caller's) the sweep failed. */
export const sweptNothing = (): SweepResult => ({ ran: false, opened: 0, resolved: 0, notices: 0, changedDevices: [] });

/** How long one round keeps running statements while there is more to do (a tick comes every minute). */
const SWEEP_BUDGET_MS = 20_000;

/**
 * Raises and resolves alerts from the devices' latest state, set-based (sweep.repository.ts), a batch
 * of at most SWEEP_BATCH openings and SWEEP_BATCH resolutions per statement, statement after statement
 * while there is more and the round's time lasts; what is left, the next round takes (sweep_state
 * keeps the oldest offline device not yet alerted). Each statement is its own transaction, under a
 * transaction-scoped advisory lock that makes concurrent sweeps one: no alert or notice twice. The
 * groups' alert hours are evaluated here first (a few rows) and passed in.
 */
export async function sweep(db: Db, settings: AlertSettings, now: Date, limits: SweepLimits = {}): Promise<SweepResult> {
  const started = performance.now();
  const total: SweepResult = { ...sweptNothing(), more: false };
  const changed = new Set<string>();
  for (;;) {
    const r = await sweepOnce(db, settings, now, limits.batch ?? SWEEP_BATCH);
    if (!r.ran) break;
    total.ran = true;
    total.opened += r.opened;
    total.resolved += r.resolved;
    total.notices += r.notices;
    for (const id of r.changedDevices) changed.add(id);
    total.more = r.more ?? false;
    if (!total.more || performance.now() - started >= (limits.budgetMs ?? SWEEP_BUDGET_MS)) break;
  }
  total.changedDevices = [...changed];
  return total;
}

function sweepOnce(db: Db, settings: AlertSettings, now: Date, size: number): Promise<SweepResult> {
  return db.transaction().execute(async (trx) => {
    if (!(await tryLockSweep(trx))) return sweptNothing();
    await raiseSweepWorkMem(trx);
    const state = await sweepState(trx);
    const clocks = await groupClocks(trx, now);
    const r = await runSweepStatement(trx, settings, now, state.lastSweptAt, clocks, { size, backlogFrom: state.offlineBacklogFrom });
    await recordSweep(trx, now, r.backlog_from);
    return { ran: true, opened: r.opened, resolved: r.resolved, notices: r.notices, changedDevices: r.changed ?? [], more: r.more };
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
