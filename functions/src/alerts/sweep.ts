import type { Db } from '../ports/db.js';
import type { AlertSettings } from './alerts.schemas.js';
import { lastSweptAt, raiseSweepWorkMem, recordSweep, runSweepStatement, tryLockSweep } from './sweep.repository.js';

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
 * notice twice.
 */
export async function sweep(db: Db, settings: AlertSettings, now: Date): Promise<SweepResult> {
  return db.transaction().execute(async (trx) => {
    if (!(await tryLockSweep(trx))) return { ran: false, opened: 0, resolved: 0, notices: 0, changedDevices: [] };
    await raiseSweepWorkMem(trx);
    const last = await lastSweptAt(trx);
    const r = await runSweepStatement(trx, settings, now, last);
    await recordSweep(trx, now);
    return { ran: true, opened: r.opened, resolved: r.resolved, notices: r.notices, changedDevices: r.changed ?? [] };
  });
}
