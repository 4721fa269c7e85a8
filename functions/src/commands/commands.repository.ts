import { sql, type Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Database, NewCommandDispatch } from '../ports/schema.generated.js';
import { OPEN_STATUSES, type CommandStatus, type CommandType, type ListCommandsQuery } from './commands.schemas.js';

type Conn = Kysely<Database>;

export type Target = { deviceIds: string[] } | { group: string } | { tag: string } | { all: true };

export interface NewBatch {
  batchId: string;
  type: CommandType;
  params: string;
  createdAt: Date;
  createdByType: 'admin' | 'system' | 'token';
  createdBy: string | null;
  notBefore: Date;
  expiresAt: Date;
}

/**
 * One command per targeted active device, in one set-based INSERT ... SELECT: a fleet-wide command
 * for 10,000 devices is one statement, not 10,000.
 */
function selectTarget(db: Conn, target: Target) {
  // retiring and retired devices take no new commands (a retiring one has its WIPE already)
  let devices = db.selectFrom('devices as d').where('d.lifecycle', '=', 'active');
  if ('deviceIds' in target) devices = devices.where('d.id', 'in', target.deviceIds);
  if ('group' in target) {
    devices = devices.innerJoin('device_groups as g', 'g.id', 'd.group_id').where('g.name', '=', target.group);
  }
  if ('tag' in target) {
    devices = devices.where((eb) =>
      eb.exists(
        eb.selectFrom('device_tags as t').select('t.device_id').whereRef('t.device_id', '=', 'd.id').where('t.tag', '=', target.tag),
      ),
    );
  }
  return devices;
}

/** How many devices a target reaches now. */
export async function countTarget(db: Conn, target: Target): Promise<number> {
  const row = await selectTarget(db, target)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertBatch(db: Conn, b: NewBatch, target: Target) {
  const devices = selectTarget(db, target);
  return db
    .insertInto('commands')
    .columns(['id', 'batch_id', 'device_id', 'type', 'params', 'created_at', 'created_by_type', 'created_by', 'not_before', 'expires_at'])
    .expression(
      // in the order of the column list above
      devices
        .select([
          sql<string>`gen_random_uuid()`.as('id'),
          sql<string>`${b.batchId}::uuid`.as('batch_id'),
          'd.id as device_id',
          sql<string>`${b.type}::text`.as('type'),
          sql<string>`${b.params}::text`.as('params'),
          sql<Date>`${b.createdAt}::timestamptz`.as('created_at'),
          sql<string>`${b.createdByType}::text`.as('created_by_type'),
          sql<string | null>`${b.createdBy}::text`.as('created_by'),
          sql<Date>`${b.notBefore}::timestamptz`.as('not_before'),
          sql<Date>`${b.expiresAt}::timestamptz`.as('expires_at'),
        ])
        // rows go in (and their foreign-key checks lock devices) in id order, the order every
        // other writer of device rows keeps, so two of them never wait on each other in a cycle
        .orderBy('d.id'),
    )
    .returning(['id', 'device_id', 'type', 'status'])
    .execute();
}

export const findCommand = (db: Conn, id: string) => db.selectFrom('commands').selectAll().where('id', '=', id).executeTakeFirst();

export const listDispatches = (db: Db, commandId: string) =>
  db.selectFrom('command_dispatches').selectAll().where('command_id', '=', commandId).orderBy('id').execute();

export function listCommands(db: Db, q: Omit<ListCommandsQuery, 'cursor'> & { after?: { createdAt: Date; id: string } | undefined }) {
  let query = db.selectFrom('commands').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit);
  if (q.deviceId) query = query.where('device_id', '=', q.deviceId);
  if (q.batchId) query = query.where('batch_id', '=', q.batchId);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.after) {
    const { createdAt, id } = q.after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(createdAt, id)));
  }
  return query.execute();
}

/** Open, due, unexpired commands of one device with its sealed key: what a heartbeat response carries. */
export const pendingForDevice = (db: Db, deviceId: string, now: Date, limit: number) =>
  db
    .selectFrom('commands as c')
    .innerJoin('devices as d', 'd.id', 'c.device_id')
    .select(['c.id', 'c.device_id', 'c.type', 'c.params', 'c.created_at', 'c.expires_at', 'c.status', 'd.hmac_key_enc'])
    .where('c.device_id', '=', deviceId)
    .where('c.status', 'in', ['queued', 'dispatched'])
    .where('c.not_before', '<=', now)
    .where('c.expires_at', '>', now)
    .orderBy('c.created_at')
    .limit(limit)
    .execute();

/**
 * queued -> dispatched for commands just handed out in a heartbeat answer, with a dispatch record for
 * each that moved: one statement (atomic, one round trip), so a fleet-wide command costs each
 * heartbeat that carries it no transaction of its own.
 */
export async function markDispatchedByHeartbeat(db: Conn, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    with moved as (
      update commands set status = case when status = 'queued' then 'dispatched' else status end,
        dispatched_at = coalesce(dispatched_at, ${now}::timestamptz)
      -- cancelled between the read and now: it was handed out all the same, so the device must be told
      where id = any(${ids}::uuid[]) and (status = 'queued' or (status = 'cancelled' and dispatched_at is null))
      returning id
    )
    insert into command_dispatches (command_id, at, channel, attempt, outcome)
    select id, ${now}::timestamptz, 'heartbeat', 1, 'sent' from moved`.execute(db);
}

/** Push attempts, any number in one statement (column arrays, not a parameter per value). */
export async function insertDispatches(db: Conn, rows: NewCommandDispatch[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: NewCommandDispatch) => T, type: string) => sql`${rows.map(pick)}::${sql.raw(type)}[]`;
  await sql`
    insert into command_dispatches (command_id, at, channel, attempt, outcome, message_id, error)
    select * from unnest(${col((r) => r.command_id, 'uuid')}, ${col((r) => (r.at instanceof Date ? r.at.toISOString() : r.at), 'timestamptz')},
      ${col((r) => r.channel, 'text')}, ${col((r) => r.attempt, 'integer')}, ${col((r) => r.outcome, 'text')},
      ${col((r) => r.message_id ?? null, 'text')}, ${col((r) => r.error ?? null, 'text')})`.execute(db);
}

const FINAL_STATUSES = ['succeeded', 'failed', 'rejected', 'cancelled'] as const;

/**
 * A device's report on one of its commands, applied in one statement: `delivered` moves a queued or
 * dispatched command on; a final status ends any command that has not ended (it wins over expiry: the
 * device did act on it). The row lock of the UPDATE serializes two reports of the same command.
 * Returns the status before (null: no such command of this device), whether it changed, and whether
 * the device is retired (its token no longer counts: nothing changes).
 */
export async function applyResult(
  db: Conn,
  r: { id: string; deviceId: string; status: CommandStatus; now: Date; output: string | null; error: string | null },
): Promise<{ previous: CommandStatus | null; updated: boolean; retired: boolean }> {
  const delivered = r.status === 'delivered';
  const { rows } = await sql<{ previous: CommandStatus | null; updated: boolean; retired: boolean }>`
    with upd as (
      update commands c set
        status = ${r.status}::text,
        delivered_at = coalesce(c.delivered_at, ${r.now}::timestamptz),
        completed_at = case when ${delivered}::boolean then c.completed_at else ${r.now}::timestamptz end,
        output = case when ${delivered}::boolean then c.output else ${r.output}::text end,
        error = case when ${delivered}::boolean then c.error else ${r.error}::text end
      where c.id = ${r.id}::uuid and c.device_id = ${r.deviceId}::uuid
        and not exists (select 1 from devices d where d.id = ${r.deviceId}::uuid and d.lifecycle = 'retired')
        and c.status <> all(${[...FINAL_STATUSES]}::text[])
        and (not ${delivered}::boolean or c.status in ('queued', 'dispatched'))
      returning c.id
    )
    select (select status from commands where id = ${r.id}::uuid and device_id = ${r.deviceId}::uuid) as previous,
      exists (select 1 from upd) as updated,
      exists (select 1 from devices d where d.id = ${r.deviceId}::uuid and d.lifecycle = 'retired') as retired`.execute(db);
  return rows[0] ?? { previous: null, updated: false, retired: false };
}

/** The status of one command of one device now (null: none). */
export const commandStatusOfDevice = async (db: Conn, id: string, deviceId: string): Promise<CommandStatus | null> =>
  ((await db.selectFrom('commands').select('status').where('id', '=', id).where('device_id', '=', deviceId).executeTakeFirst())?.status as
    CommandStatus | undefined) ?? null;

/** The open commands of devices being retired end as expired ("device retired"); returns how many. */
export async function cancelOpenCommands(db: Conn, deviceIds: string[], now: Date): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const result = await db
    .updateTable('commands')
    .set({ status: 'expired', completed_at: now, error: 'device retired' })
    .where('device_id', '=', sql<string>`any(${deviceIds}::uuid[])`)
    .where('status', 'in', [...OPEN_STATUSES])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Open commands past their expiry become expired; returns how many. */
export async function expireCommands(db: Conn, now: Date): Promise<number> {
  const result = await db
    .updateTable('commands')
    .set({ status: 'expired', completed_at: now })
    .where('status', 'in', [...OPEN_STATUSES])
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Claims the batch's queued, due commands for one push attempt. The conditional update makes a
 * redelivered batch (Pub/Sub delivers at least once) find nothing to push while another delivery holds
 * the claim or after the push succeeded; a claim older than `staleBefore` is taken over.
 */
export const claimForPush = (db: Conn, batchId: string, now: Date, staleBefore: Date) =>
  db
    .updateTable('commands as c')
    .from('devices as d')
    .set({ push_claimed_at: now })
    .whereRef('d.id', '=', 'c.device_id')
    .where('d.lifecycle', '<>', 'retired')
    .where('c.batch_id', '=', batchId)
    .where('c.status', '=', 'queued')
    .where('c.pushed_at', 'is', null)
    .where('c.not_before', '<=', now)
    .where('c.expires_at', '>', now)
    .where((eb) => eb.or([eb('c.push_claimed_at', 'is', null), eb('c.push_claimed_at', '<', staleBefore)]))
    .returning([
      'c.id',
      'c.device_id',
      'c.type',
      'c.params',
      'c.created_at',
      'c.expires_at',
      'd.fcm_token',
      'd.fcm_token_invalid_at',
      'd.hmac_key_enc',
    ])
    .execute();

export type ClaimedCommand = Awaited<ReturnType<typeof claimForPush>>[number];

/**
 * Batches with commands still to push whose claim went stale (the dispatcher that claimed them died
 * before recording any outcome) or that nobody claimed in time (the queue message was lost with its
 * instance).
 */
export async function staleBatches(db: Conn, now: Date, staleBefore: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('commands')
    .select('batch_id')
    .distinct()
    .where('status', '=', 'queued')
    .where('pushed_at', 'is', null)
    .where('not_before', '<=', now)
    .where('expires_at', '>', now)
    .where((eb) =>
      eb.or([eb('push_claimed_at', '<', staleBefore), eb.and([eb('push_claimed_at', 'is', null), eb('created_at', '<', staleBefore)])]),
    )
    // a claim that ended in an outcome (no token, failed, unregistered) is not taken over
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('command_dispatches as x').select('x.command_id').whereRef('x.command_id', '=', 'commands.id'))),
    )
    .limit(limit)
    .execute();
  return rows.map((r) => r.batch_id);
}

/** FCM accepted these: remember it (never pushed again) and move them to dispatched. */
export async function markPushed(db: Conn, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('commands')
    .set((eb) => ({
      pushed_at: now,
      dispatched_at: eb.fn.coalesce('dispatched_at', sql<Date>`${now}::timestamptz`),
      status: eb
        .case()
        .when('status', '=', 'queued')
        .then(sql<CommandStatus>`'dispatched'`)
        .else(eb.ref('status'))
        .end(),
    }))
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .execute();
}

/** Marks tokens FCM called dead - only if the device still has that token (a newer one may have come in). */
export async function markTokensInvalid(db: Conn, pairs: { deviceId: string; token: string }[], now: Date): Promise<void> {
  if (pairs.length === 0) return;
  // the rows are locked in id order first, as the heartbeat writer locks them, so the two never deadlock
  await sql`
    with l as (
      select d.id from devices d
      join unnest(${pairs.map((p) => p.deviceId)}::uuid[], ${pairs.map((p) => p.token)}::text[]) as x(id, token)
        on d.id = x.id and d.fcm_token = x.token
      order by d.id for no key update of d
    )
    update devices d set fcm_token_invalid_at = ${now}::timestamptz
    from l where d.id = l.id`.execute(db);
}
