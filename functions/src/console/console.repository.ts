import { sql } from 'kysely';
import { selectDocRows, type DocRow } from '../devices/device-mirror.js';
import type { Db } from '../platform/db/connect.js';

export interface FleetPageFilter {
  afterId: string | undefined;
  seenSince: Date | undefined;
  limit: number;
  frozenAfterMs: number;
}

/** The fleet as the live mirror's documents show it, a page at a time in id order (the primary key). */
export async function fleetPage(db: Db, f: FleetPageFilter): Promise<DocRow[]> {
  const { rows } = await sql<DocRow>`
    ${selectDocRows(f.frozenAfterMs)}
    where true
      ${f.afterId === undefined ? sql`` : sql`and d.id > ${f.afterId}::uuid`}
      ${f.seenSince === undefined ? sql`` : sql`and d.last_seen_at >= ${f.seenSince}::timestamptz`}
    order by d.id
    limit ${f.limit}`.execute(db);
  return rows;
}
