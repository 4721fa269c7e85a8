import type { Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Database, NewDevice, NewEnrollmentToken } from '../ports/schema.generated.js';
import type { TokenStatus } from './enrollment.schemas.js';

type Conn = Kysely<Database>;

export const insertToken = (db: Conn, token: NewEnrollmentToken) =>
  db.insertInto('enrollment_tokens').values(token).returning(['id', 'created_at']).executeTakeFirstOrThrow();

const tokenColumns = (db: Conn) =>
  db
    .selectFrom('enrollment_tokens as t')
    .leftJoin('device_groups as g', 'g.id', 't.group_id')
    .leftJoin('admins as a', 'a.id', 't.created_by')
    .select([
      't.id',
      't.label',
      't.created_at',
      't.expires_at',
      't.used_at',
      't.revoked_at',
      't.group_id',
      'g.name as group_name',
      't.max_uses',
      't.tags',
      't.use_count',
      'a.email as created_by_email',
    ])
    // The enrolled device, for single-use tokens (a multi-use token reports its use count instead).
    .select((eb) =>
      eb
        .selectFrom('devices as d')
        .select('d.id')
        .whereRef('d.enrollment_token_id', '=', 't.id')
        .where('t.max_uses', '=', 1)
        .limit(1)
        .as('device_id'),
    );

export type TokenRow = Awaited<ReturnType<typeof findTokenById>> & {};

export const findTokenById = (db: Conn, id: string) => tokenColumns(db).where('t.id', '=', id).executeTakeFirst();
export const findTokenByHash = (db: Conn, hash: string) => tokenColumns(db).where('t.token_hash', '=', hash).executeTakeFirst();

export function listTokens(
  db: Db,
  f: { status?: TokenStatus | undefined; after?: { createdAt: Date; id: string } | undefined; limit: number; now: Date },
) {
  let q = tokenColumns(db).orderBy('t.created_at', 'desc').orderBy('t.id', 'desc').limit(f.limit);
  if (f.status === 'used') q = q.where('t.used_at', 'is not', null);
  if (f.status === 'revoked') q = q.where('t.revoked_at', 'is not', null);
  if (f.status === 'active' || f.status === 'expired') {
    q = q
      .where('t.used_at', 'is', null)
      .where('t.revoked_at', 'is', null)
      .where('t.expires_at', f.status === 'active' ? '>' : '<=', f.now);
  }
  if (f.after) {
    const { createdAt, id } = f.after;
    q = q.where((eb) => eb(eb.refTuple('t.created_at', 't.id'), '<', eb.tuple(createdAt, id)));
  }
  return q.execute();
}

/** Revokes a token nobody has used; returns whether a row changed. */
export async function revokeToken(db: Conn, id: string, by: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('enrollment_tokens')
    .set({ revoked_at: at, revoked_by: by })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Takes one use of a token. The conditional update is the use-limit guarantee: concurrent callers
 * queue on the row lock and re-check the condition, so a token with max_uses = 1 lets exactly one
 * through (the others then find used_at set), and no token is ever used more than max_uses times.
 */
export const claimToken = (db: Conn, hash: string, now: Date) =>
  db
    .updateTable('enrollment_tokens')
    .set((eb) => ({
      use_count: eb('use_count', '+', 1),
      used_at: eb
        .case()
        .when(eb('use_count', '+', 1), '>=', eb.ref('max_uses'))
        .then(now)
        .else(eb.ref('used_at'))
        .end(),
    }))
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'group_id', 'tags'])
    .executeTakeFirst();

export async function insertDevice(db: Conn, device: NewDevice, tags: string[]): Promise<void> {
  await db.insertInto('devices').values(device).execute();
  if (tags.length)
    await db
      .insertInto('device_tags')
      .values(tags.map((tag) => ({ device_id: device.id, tag })))
      .execute();
}

export const groupNameById = async (db: Conn, id: string | null) =>
  id ? ((await db.selectFrom('device_groups').select('name').where('id', '=', id).executeTakeFirst())?.name ?? null) : null;
