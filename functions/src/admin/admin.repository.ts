import { sql, type Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Database, NewAdmin } from '../ports/schema.generated.js';

export const findAdminByEmail = (db: Db, email: string) =>
  db.selectFrom('admins').selectAll().where('email', '=', email).executeTakeFirst();

export const findAdminById = (db: Db, id: string) =>
  db.selectFrom('admins').select(['id', 'email', 'name', 'role', 'disabled_at']).where('id', '=', id).executeTakeFirst();

export async function countAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('admins')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export const insertAdmin = (db: Kysely<Database>, admin: NewAdmin) =>
  db.insertInto('admins').values(admin).returning(['id', 'email', 'role']).executeTakeFirstOrThrow();

export async function touchLastLogin(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('admins').set({ last_login_at: at }).where('id', '=', id).execute();
}

/** Serialises first-admin creation across instances for the rest of the transaction. */
export async function lockAdminBootstrap(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(727300002)`.execute(trx);
}
