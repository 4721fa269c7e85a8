import type { Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Command, Database } from '../ports/schema.generated.js';

type Conn = Kysely<Database>;

/**
 * Cancels the open, not yet started commands named (one id, or a batch): queued or dispatched become
 * cancelled (final). Returns what moved, with whether each was handed out (the device must be told).
 */
export const cancelOpen = (db: Conn, which: { id: string } | { batchId: string }, now: Date, by: string) =>
  db
    .updateTable('commands')
    .set({ status: 'cancelled', cancelled_at: now, cancelled_by: by, completed_at: now })
    .where('id' in which ? 'id' : 'batch_id', '=', 'id' in which ? which.id : which.batchId)
    .where('status', 'in', ['queued', 'dispatched'])
    .returning(['id', 'device_id', 'type', 'dispatched_at', 'expires_at'])
    .execute();

export const batchExists = async (db: Conn, batchId: string) =>
  (await db.selectFrom('commands').select('id').where('batch_id', '=', batchId).limit(1).executeTakeFirst()) !== undefined;

/**
 * Ids of the device's cancelled commands it may hold (handed out) and has not answered on since - what
 * a heartbeat answer names in `cancelled` until the device reports (unexpired only).
 */
export const untoldCancels = async (db: Db, deviceId: string, now: Date, limit: number) =>
  (
    await db
      .selectFrom('commands')
      .select('id')
      .where('device_id', '=', deviceId)
      .where('status', '=', 'cancelled')
      .where('dispatched_at', 'is not', null)
      .where((eb) => eb.or([eb('device_report', 'is', null), eb('device_report', '=', 'delivered')]))
      .where('expires_at', '>', now)
      .orderBy('created_at')
      .limit(limit)
      .execute()
  ).map((r) => r.id);

/**
 * What a device says about a command that was cancelled: kept (the last report, with its output and
 * error), the status stays cancelled. A `delivered` never replaces a report that says more.
 */
export async function recordLateReport(
  db: Conn,
  r: {
    id: string;
    deviceId: string;
    status: NonNullable<Command['device_report']>;
    now: Date;
    output: string | null;
    error: string | null;
  },
): Promise<boolean> {
  const res = await db
    .updateTable('commands')
    .set({
      device_report: r.status,
      device_report_at: r.now,
      ...(r.status === 'delivered' || r.status === 'cancelled' ? {} : { output: r.output, error: r.error }),
    })
    .where('id', '=', r.id)
    .where('device_id', '=', r.deviceId)
    .where('status', '=', 'cancelled')
    .where((eb) =>
      r.status === 'delivered' ? eb.or([eb('device_report', 'is', null), eb('device_report', '=', 'delivered')]) : eb.lit(true),
    )
    .where((eb) => eb.or([eb('device_report', 'is', null), eb('device_report', '<>', r.status)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Signing material for telling devices about cancels by push: the command's device, key and token. */
export const cancelPushTargets = (db: Db, ids: string[]) =>
  db
    .selectFrom('commands as c')
    .innerJoin('devices as d', 'd.id', 'c.device_id')
    .select(['c.id', 'c.device_id', 'c.expires_at', 'd.fcm_token', 'd.fcm_token_invalid_at', 'd.hmac_key_enc'])
    .where('c.id', 'in', ids)
    .execute();
