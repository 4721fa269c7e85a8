import type { Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { AdminUpdate, Database, NewAdmin } from '../ports/schema.generated.js';

const COLUMNS = ['id', 'email', 'name', 'role', 'disabled_at', 'created_at', 'last_login_at'] as const;

export const listUsers = (db: Db) => db.selectFrom('admins').select(COLUMNS).orderBy('email').execute();

export const findUser = (db: Kysely<Database>, id: string) =>
  db.selectFrom('admins').select(COLUMNS).where('id', '=', id).executeTakeFirst();

export const insertUser = (db: Kysely<Database>, user: NewAdmin) =>
  db.insertInto('admins').values(user).returning(COLUMNS).executeTakeFirstOrThrow();

export const updateUser = (db: Kysely<Database>, id: string, patch: AdminUpdate) =>
  db.updateTable('admins').set(patch).where('id', '=', id).returning(COLUMNS).executeTakeFirstOrThrow();

export async function deleteUser(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('admins').where('id', '=', id).execute();
}

/** Admins who can still sign in with the admin role: the ones the last-admin rule protects. */
export async function countActiveAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('admins')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
