import { readdir } from 'node:fs/promises';
import type { Db } from '../../src/ports/db.js';

/** How many releases the catalog holds (a refused upload or registration must leave it unchanged). */
export async function countReleases(db: Db): Promise<number> {
  const row = await db
    .selectFrom('apk_releases')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** APK, spool and temporary files anywhere under `dir` (none may be left after a refused body). */
export async function leftoverFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [])).filter((f) => /\.(apk|part|tmp)$/.test(f));
}
