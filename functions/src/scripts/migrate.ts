import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { openDatabase } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';

// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database under DATA_DIR.
try {
  const config = loadConfig(process.env);
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, poolMax: 1 }
      : { kind: 'pglite', dataDir: join(config.dataDir, 'pglite') },
  );
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
