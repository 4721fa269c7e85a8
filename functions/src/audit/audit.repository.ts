import { sql, type Kysely } from 'kysely';
import type { Database, NewAuditLog } from '../ports/schema.generated.js';
import type { Db } from '../ports/db.js';

export async function insertAuditEntry(db: Kysely<Database>, entry: NewAuditLog): Promise<void> {
  await db.insertInto('audit_log').values(entry).execute();
}

export interface AuditFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  deviceId?: string | undefined;
  beforeId?: number | undefined;
  limit: number;
}

/**
 * A page of entries with what they name as it is now, joined at read time (a page is at most 500
 * rows; each join is a primary-key lookup): the device's current display name - or, once it is deleted,
 * the name its `deleted_device` entry kept (audit_log_device_idx) - and the admin's current email.
 */
export async function listAuditEntries(db: Db, f: AuditFilter) {
  let q = db
    .selectFrom('audit_log as a')
    .leftJoin('devices as d', 'd.id', 'a.device_id')
    .leftJoin('admins as ad', (j) => j.on('a.actor_type', '=', 'admin').on(sql`ad.id::text`, '=', sql.ref('a.actor_id')))
    .selectAll('a')
    .select([
      sql<string | null>`coalesce(d.name, nullif(concat_ws(' ', d.model, d.serial), ''))`.as('device_name'),
      sql<string | null>`case when d.id is null and a.device_id is not null then (select x.details->>'name' from audit_log x
        where x.device_id = a.device_id and x.action = 'deleted_device' order by x.id desc limit 1) end`.as('deleted_device_name'),
      sql<boolean>`d.id is not null`.as('device_exists'),
      'ad.email as actor_email',
    ])
    .orderBy('a.id', 'desc')
    .limit(f.limit);
  if (f.actorId) q = q.where('a.actor_id', '=', f.actorId);
  if (f.action) q = q.where('a.action', '=', f.action);
  if (f.deviceId) q = q.where('a.device_id', '=', f.deviceId);
  if (f.beforeId !== undefined) q = q.where('a.id', '<', f.beforeId);
  return q.execute();
}
export type AuditRow = Awaited<ReturnType<typeof listAuditEntries>>[number];

/**
 * The one way audit rows are removed: the audit log is append-only in the database (migration 0013's
 * trigger) except in a transaction that sets mdm.audit_retention, which this does. For retention only.
 */
export async function pruneAuditBefore(db: Db, before: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('mdm.audit_retention', 'on', true)`.execute(trx);
    const result = await trx.deleteFrom('audit_log').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}

/**
 * Moves the authentication-failure buckets of minutes that ended before `before` into the audit log,
 * one `failed_authentication` entry per scope, address and minute, in one statement (the delete and the
 * inserts commit together, so a bucket is audited exactly once even if two instances run it at once).
 */
export async function flushAuthFailures(db: Db, before: Date): Promise<number> {
  const result = await sql<{ n: number }>`
    with moved as (
      delete from auth_failures where minute < ${before} returning scope, address, minute, failures
    ), written as (
      insert into audit_log (at, actor_type, actor_id, actor_name, action, target_type, target_id, device_id, ip, details)
      select minute + interval '1 minute', 'system', null, 'authentication', 'failed_authentication', 'auth_scope', scope, null, address,
             jsonb_build_object('scope', scope, 'failures', failures, 'minute', to_char(minute at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
      from moved order by minute, scope, address
      returning 1
    )
    select count(*)::int as n from written`.execute(db);
  return result.rows[0]?.n ?? 0;
}
