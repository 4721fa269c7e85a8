import { sql, type Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Database } from '../ports/schema.generated.js';

type Conn = Kysely<Database>;

/**
 * The SQL of a device's lifecycle: retiring, retiring for good, deleting, handing a device's identity
 * to its replacement and the bulk edits. Plain functions over a transaction the service began.
 */

/** A serial that identifies hardware: Android answers "unknown" to apps that may not read it. */
export const MEANINGFUL_SERIAL = sql<boolean>`(d.serial is not null and d.serial <> '' and lower(d.serial) <> 'unknown')`;

/** Locks one device row for a lifecycle change and reads what the change needs; undefined when it does not exist. */
export const lockDevice = (trx: Conn, id: string) =>
  trx
    .selectFrom('devices as d')
    .leftJoin('device_groups as g', 'g.id', 'd.group_id')
    .select(['d.id', 'd.name', 'd.model', 'd.serial', 'd.group_id', 'g.name as group_name', 'd.lifecycle', 'd.last_seen_at'])
    .select((eb) =>
      eb
        .selectFrom('device_tags as t')
        .select(sql<string[]>`coalesce(array_agg(t.tag order by t.tag), '{}')`.as('tags'))
        .whereRef('t.device_id', '=', 'd.id')
        .as('tags'),
    )
    .where('d.id', '=', id)
    .forNoKeyUpdate('d')
    .executeTakeFirst();

export type LockedDevice = NonNullable<Awaited<ReturnType<typeof lockDevice>>>;

/** Locks both rows of a replacement in id order (the order every writer of several device rows keeps). */
export async function lockPair(trx: Conn, a: string, b: string): Promise<[LockedDevice | undefined, LockedDevice | undefined]> {
  const [first, second] = a < b ? [a, b] : [b, a];
  const x = await lockDevice(trx, first);
  const y = await lockDevice(trx, second);
  return a < b ? [x, y] : [y, x];
}

export async function markRetiring(trx: Conn, id: string, now: Date, commandId: string): Promise<boolean> {
  const r = await trx
    .updateTable('devices')
    .set({ lifecycle: 'retiring', retire_requested_at: now, retire_command_id: commandId })
    .where('id', '=', id)
    .where('lifecycle', '=', 'active')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Retires a device that is not retired yet; false when it was. */
export async function markRetired(trx: Conn, id: string, now: Date, replacedBy?: string): Promise<boolean> {
  const r = await trx
    .updateTable('devices')
    .set((eb) => ({
      lifecycle: 'retired',
      retired_at: now,
      retire_requested_at: eb.fn.coalesce('retire_requested_at', sql<Date>`${now}::timestamptz`),
      ...(replacedBy ? { replaced_by: replacedBy } : {}),
    }))
    .where('id', '=', id)
    .where('lifecycle', '<>', 'retired')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Retiring devices whose WIPE or RELEASE_OWNER (with its type) the device has taken (delivered), or that ended (succeeded, failed,
 * rejected, expired) or is gone, become retired; one statement for the minute tick. A WIPE only
 * handed out (dispatched) is not enough: the answer carrying it may have been lost.
 */
export async function finishRetiring(db: Conn, now: Date): Promise<{ id: string; type: string | null }[]> {
  const { rows } = await sql<{ id: string; type: string | null }>`
    update devices d set lifecycle = 'retired', retired_at = ${now}::timestamptz
    where d.lifecycle = 'retiring'
      and not exists (select 1 from commands c where c.id = d.retire_command_id and c.status in ('queued', 'dispatched'))
    returning d.id, (select c.type from commands c where c.id = d.retire_command_id) as type`.execute(db);
  return rows;
}

/**
 * Deletes a retired device and what hangs off it: its heartbeats and hourly rollups (no foreign key:
 * partitioned), then the row, whose foreign keys take its tags, events, commands and their push
 * attempts, alerts with their notices and self-healing steps. The audit log is not touched.
 */
export async function deleteDeviceRows(trx: Conn, id: string): Promise<{ heartbeats: number; commands: number; alerts: number }> {
  const heartbeats = await trx.deleteFrom('heartbeats').where('device_id', '=', id).executeTakeFirst();
  await trx.deleteFrom('heartbeat_rollups').where('device_id', '=', id).execute();
  const counts = await trx
    .selectNoFrom((eb) => [
      eb.selectFrom('commands').select(eb.fn.countAll<number>().as('n')).where('device_id', '=', id).as('commands'),
      eb.selectFrom('alerts').select(eb.fn.countAll<number>().as('n')).where('device_id', '=', id).as('alerts'),
    ])
    .executeTakeFirstOrThrow();
  await trx.deleteFrom('devices').where('id', '=', id).where('lifecycle', '=', 'retired').execute();
  return { heartbeats: Number(heartbeats.numDeletedRows), commands: Number(counts.commands ?? 0), alerts: Number(counts.alerts ?? 0) };
}

/** The new device takes the old one's name, group and tags (its own tags are replaced). */
export async function takeOverIdentity(trx: Conn, from: LockedDevice, toId: string): Promise<void> {
  await trx.updateTable('devices').set({ name: from.name, group_id: from.group_id }).where('id', '=', toId).execute();
  await trx.deleteFrom('device_tags').where('device_id', '=', toId).execute();
  const tags = from.tags ?? [];
  if (tags.length)
    await trx
      .insertInto('device_tags')
      .values(tags.map((tag) => ({ device_id: toId, tag })))
      .execute();
}

/**
 * Locks the named devices in id order and reads their lifecycle: the rows a bulk edit will change.
 * Devices not found are missing from the answer.
 */
export const lockDevices = (trx: Conn, ids: string[]) =>
  trx
    .selectFrom('devices')
    .select(['id', 'lifecycle', 'group_id'])
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();

/** Moves devices to a group (null: none); returns how many changed group. */
export async function moveDevices(trx: Conn, ids: string[], groupId: string | null): Promise<number> {
  const r = await trx
    .updateTable('devices')
    .set({ group_id: groupId })
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .where(sql<boolean>`group_id is distinct from ${groupId}::uuid`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Adds and removes tags on devices; returns how many devices' tags changed. */
export async function tagDevices(trx: Conn, ids: string[], add: string[], remove: string[]): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from unnest(${ids}::uuid[]) as x(id)
    where exists (select 1 from unnest(${add}::text[]) as a(tag)
        where not exists (select 1 from device_tags t where t.device_id = x.id and t.tag = a.tag))
      or exists (select 1 from device_tags t where t.device_id = x.id and t.tag = any(${remove}::text[]))`.execute(trx);
  if (add.length)
    await sql`
      insert into device_tags (device_id, tag)
      select x.id, a.tag from unnest(${ids}::uuid[]) as x(id) cross join unnest(${add}::text[]) as a(tag)
      on conflict do nothing`.execute(trx);
  if (remove.length)
    await trx
      .deleteFrom('device_tags')
      .where('device_id', '=', sql<string>`any(${ids}::uuid[])`)
      .where('tag', '=', sql<string>`any(${remove}::text[])`)
      .execute();
  return rows[0]?.n ?? 0;
}

/** A device's lifecycle (undefined: no such device); the failure path of device routes asks it. */
export const lifecycleOf = async (db: Db, id: string) =>
  (await db.selectFrom('devices').select('lifecycle').where('id', '=', id).executeTakeFirst())?.lifecycle;
