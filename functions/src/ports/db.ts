import type { Kysely } from 'kysely';
import type { Database } from './schema.generated.js';

/**
 * The Db port: Kysely over PostgreSQL. Repositories take it first and return plain rows; the adapters
 * (adapters/postgres) open it on PGlite, a PostgreSQL URL or Cloud SQL. `Database` is generated from
 * the migrations (schema.generated.ts; a test fails when the two drift).
 */
export type Db = Kysely<Database>;
export type { Database };

/** How a statement asks to be prepared once per connection: its text starts with this comment. */
export const preparedAs = (name: string) => `/* prepared:${name} */`;
/** Reads the name back out of a statement's text (the adapter's client does). */
export const PREPARED_MARKER = /^\/\* prepared:([a-z_]+) \*\//;
