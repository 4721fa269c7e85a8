import { sql } from 'kysely';
import type { Db } from '../ports/db.js';

/** Rollouts per state, for the gauge read when /metrics is scraped (every instance answers the same). */
export async function rolloutCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await sql<{ state: string; n: number }>`select state, count(*)::int as n from rollouts group by state`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
