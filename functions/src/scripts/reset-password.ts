import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminService } from '../admin/index.js';
import { AuditService } from '../audit/index.js';
import { systemClock } from '../core/clock.js';
import { SessionTokens } from '../core/session-tokens.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { openDatabase, type DatabaseHandle } from '../adapters/postgres/connect.js';
import { WorkerSecretHasher } from '../adapters/workers/secret-hasher.js';
import type { Db } from '../ports/db.js';

/**
 * `npm run reset-password -w functions -- --email admin@example.com`: the recovery path for a lost
 * admin password (the first-start one included). Works on the database directly (DATABASE_URL, or
 * the embedded database under DATA_DIR with the server stopped): prints a new generated password
 * that must be changed at the next sign-in, ends the admin's sessions, lifts the sign-in limits on
 * the account, re-enables it, and audits it as done by the reset-password script.
 */
export async function resetPassword(db: Db, email: string, bcryptRounds: number) {
  const hasher = new WorkerSecretHasher(1);
  try {
    const admins = new AdminService(
      db,
      systemClock,
      // the session signer is never used here; it only completes the service
      new SessionTokens(randomBytes(32).toString('base64')),
      hasher,
      new AuditService(db, systemClock),
      { sessionTtlSec: 1, bcryptRounds, accountFailuresAnyAddress: 1 },
    );
    return await admins.recoverAccount(email);
  } finally {
    await hasher.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { email: { type: 'string' } } });
  if (!values.email) {
    console.error('usage: npm run reset-password -w functions -- --email <admin e-mail>');
    return 2;
  }
  const config = loadConfig(process.env);
  const database: DatabaseHandle = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, poolMax: 1 }
      : { kind: 'pglite', dataDir: join(config.dataDir, 'pglite') },
  );
  try {
    const { email, password } = await resetPassword(database.db, values.email, config.adminBcryptRounds);
    console.log(`new password for ${email} (it must be changed at the next sign-in):\n${password}`);
    return 0;
  } finally {
    await database.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
