import { sql, type Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Database, NewAdmin } from '../ports/schema.generated.js';

export const findAdminByEmail = (db: Kysely<Database>, email: string) =>
  db.selectFrom('admins').selectAll().where('email', '=', email).executeTakeFirst();

export const findAdminById = (db: Db, id: string) =>
  db
    .selectFrom('admins')
    .select(['id', 'email', 'name', 'role', 'disabled_at', 'session_version', 'must_change_password'])
    .where('id', '=', id)
    .executeTakeFirst();

export async function countAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('admins')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export const insertAdmin = (db: Kysely<Database>, admin: NewAdmin) =>
  db.insertInto('admins').values(admin).returning(['id', 'email', 'role']).executeTakeFirstOrThrow();

/** Records a sign-in: its time, and its address first among the last KNOWN_ADDRESSES ones. */
export async function touchLastLogin(db: Db, id: string, at: Date, ip: string): Promise<void> {
  await db
    .updateTable('admins')
    .set({
      last_login_at: at,
      known_addresses: sql<
        string[]
      >`(array_prepend(${ip}::text, array_remove(known_addresses, ${ip}::text)))[1:${sql.lit(KNOWN_ADDRESSES)}]`,
    })
    .where('id', '=', id)
    .execute();
}

/** How many recent sign-in addresses an admin keeps (exempt from the account-wide failure limit). */
export const KNOWN_ADDRESSES = 5;

/**
 * Ends every session of an admin: the version carried in their tokens no longer matches. Returns the
 * new version. A plain increment, so disabling and re-enabling never brings an old number back.
 */
export async function bumpSessionVersion(db: Kysely<Database>, id: string): Promise<number> {
  const row = await db
    .updateTable('admins')
    .set({ session_version: sql`session_version + 1` })
    .where('id', '=', id)
    .returning('session_version')
    .executeTakeFirst();
  return row?.session_version ?? 0;
}

export async function setPassword(db: Kysely<Database>, id: string, hash: string, mustChange: boolean, at: Date): Promise<number> {
  const row = await db
    .updateTable('admins')
    .set({ password_hash: hash, must_change_password: mustChange, updated_at: at, session_version: sql`session_version + 1` })
    .where('id', '=', id)
    .returning('session_version')
    .executeTakeFirstOrThrow();
  return row.session_version;
}

/** Serialises first-admin creation across instances for the rest of the transaction. */
export async function lockAdminBootstrap(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(727300002)`.execute(trx);
}

/** Forgets the failed sign-ins counted against an account, from every address (the recovery path). */
export async function clearLoginLimits(db: Kysely<Database>, account: string): Promise<void> {
  await db
    .deleteFrom('rate_limits')
    .where('bucket', 'like', `login_account:%|${account.replace(/[\\%_]/g, (c) => `\\${c}`)}`)
    .execute();
}
