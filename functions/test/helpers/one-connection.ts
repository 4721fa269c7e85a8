import { openDatabase, type DatabaseHandle } from '../../src/adapters/postgres/connect.js';
import type { TestApp } from './app.js';
import { TEST_DATABASE_URL } from './env.js';

/** One more connection to a PostgreSQL test app's own database: one session to look into (prepared statements, a transaction's counters). */
export async function oneConnection(t: TestApp): Promise<DatabaseHandle> {
  const { rows } = await t.db.pool!.query<{ db: string }>('select current_database() as db');
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${rows[0]!.db}`;
  return openDatabase({ kind: 'postgres', url: url.toString(), poolMax: 1 });
}
