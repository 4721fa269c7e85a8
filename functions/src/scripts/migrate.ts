import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { openDatabase } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';

// `npm run migrate`: applies pending migrations to Cloud SQL (INSTANCE_CONNECTION_NAME, with DB_USER,
// DB_NAME, DB_IAM_AUTH or DB_PASSWORD), to DATABASE_URL, or to the embedded database under DATA_DIR.
try {
  const config = loadConfig(process.env);
  const env = process.env;
  // Cloud SQL (the deploy workflow): the same connector and variables the functions use
  const database = await openDatabase(
    env.INSTANCE_CONNECTION_NAME
      ? {
          kind: 'cloudsql',
          instanceConnectionName: env.INSTANCE_CONNECTION_NAME,
          user: env.DB_USER ?? 'mdm',
          password: env.DB_PASSWORD,
          database: env.DB_NAME ?? 'mdm',
          ipType: (env.DB_IP_TYPE ?? 'PUBLIC') as 'PUBLIC' | 'PRIVATE' | 'PSC',
          iamAuth: env.DB_IAM_AUTH !== 'false',
          poolMax: 1,
        }
      : config.databaseUrl
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
