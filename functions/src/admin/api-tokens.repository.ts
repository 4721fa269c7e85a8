import type { Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { Database } from '../ports/schema.generated.js';

type Conn = Kysely<Database>;

export interface NewApiToken {
  id: string;
  name: string;
  tokenHash: string;
  scopes: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
}

const COLUMNS = ['id', 'name', 'scopes', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'] as const;

export const insertApiToken = (db: Conn, t: NewApiToken) =>
  db
    .insertInto('api_tokens')
    .values({
      id: t.id,
      name: t.name,
      token_hash: t.tokenHash,
      scopes: t.scopes,
      created_by: t.createdBy,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();

/** The live token with this hash (not revoked, not expired), noting its use. */
export const useApiToken = (db: Db, tokenHash: string, now: Date) =>
  db
    .updateTable('api_tokens')
    .set({ last_used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'name', 'scopes'])
    .executeTakeFirst();

export const listApiTokens = (db: Db) =>
  db.selectFrom('api_tokens').select(COLUMNS).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();

export const findApiToken = (db: Conn, id: string) => db.selectFrom('api_tokens').select(COLUMNS).where('id', '=', id).executeTakeFirst();

export const revokeApiToken = (db: Conn, id: string, by: string, now: Date) =>
  db
    .updateTable('api_tokens')
    .set({ revoked_at: now, revoked_by: by })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
