import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** `sql/migrations` at the repository root, from both `src/` and the compiled `lib/`. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../../sql/migrations/', import.meta.url));

const FILE_NAME = /^(\d{4}_[a-z0-9_]+)\.sql$/;

/** Plain, numbered, forward-only SQL files; each runs as one migration in the migrator's transaction. */
export class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string = DEFAULT_MIGRATIONS_DIR) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await readdir(this.dir)).sort()) {
      if (!file.endsWith('.sql')) continue;
      const name = FILE_NAME.exec(file)?.[1];
      if (!name) throw new Error(`migration file ${file} is not named NNNN_snake_case.sql`);
      const text = await readFile(join(this.dir, file), 'utf8');
      migrations[name] = {
        up: async (db) => {
          await sql.raw(text).execute(db);
        },
      };
    }
    return migrations;
  }
}

/** Applies every pending migration; returns the names applied. Safe to run from several processes at once. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on any schema version
export async function migrateToLatest(db: Kysely<any>, dir?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new SqlFileMigrationProvider(dir),
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
