import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AdminService } from '../admin/index.js';
import { AuditService } from '../audit/index.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { openDatabase } from '../adapters/postgres/connect.js';
import { migrateToLatest } from '../adapters/postgres/migrate.js';
import { WorkerSecretHasher } from '../adapters/workers/secret-hasher.js';
import { SessionTokens } from '../core/session-tokens.js';

// `npm run migrate`: applies pending migrations to Cloud SQL (INSTANCE_CONNECTION_NAME, with DB_USER,
// DB_NAME, DB_IAM_AUTH or DB_PASSWORD), to DATABASE_URL, or to the embedded database under DATA_DIR.
// With ADMIN_EMAIL and ADMIN_PASSWORD set it then creates the first admin if there is none: that is
// how a Firebase deployment gets its first admin (the standalone server does it on start).
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
    if (config.adminEmail && config.adminPassword) {
      const hasher = new WorkerSecretHasher(1);
      try {
        // the session signer is never used here; it only completes the service
        const admins = new AdminService(
          database.db,
          systemClock,
          new SessionTokens(randomBytes(32).toString('base64')),
          hasher,
          new AuditService(database.db, systemClock),
          {
            sessionTtlSec: config.adminSessionTtlSec,
            bcryptRounds: config.adminBcryptRounds,
            accountFailuresAnyAddress: config.loginAccountAnyFailures,
          },
        );
        const first = await admins.ensureFirstAdmin({ email: config.adminEmail, password: config.adminPassword, allowGenerated: false });
        console.log(first.created ? `created the first admin ${first.email}` : 'admins exist: ADMIN_EMAIL/ADMIN_PASSWORD ignored');
      } finally {
        await hasher.close();
      }
    }
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
