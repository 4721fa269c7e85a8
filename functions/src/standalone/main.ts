import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { createNodeServer } from '../http/node-server.js';
import { loadStaticSite, withStaticSite } from '../http/static-files.js';
import { openDatabase } from '../adapters/postgres/connect.js';
import { migrateToLatest } from '../adapters/postgres/migrate.js';
import { createLogger } from '../adapters/logging/logger.js';
import { createStandaloneApp } from './adapters.js';
import { lockDataDir, restrictDataDir } from './data-lock.js';
import { proxyTrust } from '../http/client-address.js';
import { resolveStandaloneSecrets } from './secrets.js';
import { checkSecrets, SecretMismatchError } from '../admin/index.js';

const MAINTENANCE_INTERVAL_MS = 3600_000;

/** The single-process host: embedded PGlite (or DATABASE_URL), migrations, the HTTP server, timers. */
async function main(): Promise<void> {
  const startedAt = performance.now();
  // Everything this process creates (PGlite's files, secrets, the lock) is its user's alone: 0700
  // directories, 0600 files. Set before anything touches DATA_DIR.
  process.umask(0o077);
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const secrets = await resolveStandaloneSecrets(config);
  if (secrets.generated && config.databaseUrl) {
    logger.warn('using secrets generated under DATA_DIR; set JWT_SECRET and ENCRYPTION_KEY when several instances share the database');
  }

  const unlock = config.databaseUrl ? async () => {} : await lockDataDir(config.dataDir);
  const database = await openDatabase(
    config.databaseUrl
      ? { kind: 'postgres', url: config.databaseUrl, poolMax: config.dbPoolMax }
      : { kind: 'pglite', dataDir: join(config.dataDir, 'pglite') },
    (err) => logger.warn('idle database connection failed', { err }),
  );
  const applied = await migrateToLatest(database.db);
  if (applied.length) logger.info('migrations applied', { migrations: applied });
  // secrets other than the ones the database was written with: refuse to start (admin/secret-check.ts)
  try {
    await checkSecrets(database.db, secrets);
  } catch (err) {
    if (!(err instanceof SecretMismatchError)) throw err;
    process.stderr.write(`${err.message}\n`);
    await database.close();
    await unlock();
    process.exit(3);
  }
  // PGlite (emscripten's file system) sets its files' modes itself, 0666, whatever the umask: what it
  // wrote so far, and a DATA_DIR left by an earlier version, are tightened to owner-only here and
  // after each hourly maintenance. DATA_DIR itself is 0700, so nobody else can reach them meanwhile.
  const tighten = async () => {
    const changed = await restrictDataDir(config.dataDir);
    if (changed) logger.info('DATA_DIR permissions tightened to owner-only', { dataDir: config.dataDir, entries: changed });
  };
  await tighten();

  // firebase-admin is only loaded when push is configured
  const push = config.fcmServiceAccount ? await (await import('./push.js')).fcmPush(config.fcmServiceAccount) : undefined;
  if (!push) logger.info('push is not configured (FCM_SERVICE_ACCOUNT); commands go out with heartbeats');
  const app = createStandaloneApp({ config, secrets, db: database.db, logger, dbPool: database.stats, overrides: push ? { push } : {} });
  await app.maintenance();

  const first = await app.services.admins.ensureFirstAdmin({
    email: config.adminEmail,
    password: config.adminPassword,
    allowGenerated: true,
  });
  if (first.created && first.generatedPassword) {
    // Printed once, outside the structured log, so it is never shipped to a log store.
    process.stdout.write(
      [
        '',
        '================================================================',
        `  First admin created: ${first.email}`,
        `  Password (shown once, store it now): ${first.generatedPassword}`,
        '================================================================',
        '',
      ].join('\n') + '\n',
    );
  }

  // The admin console: web/build of this repository unless CONSOLE_DIR names another build.
  const consoleDir = config.consoleDir ?? fileURLToPath(new URL('../../../web/build', import.meta.url));
  const site = await loadStaticSite(consoleDir);
  if (site.files === 0) logger.warn('the admin console is not built; run npm run build -w web', { consoleDir });
  const http = createNodeServer(withStaticSite(site, app.handle), {
    proxy: proxyTrust(config.proxy),
    logger,
    hsts: config.publicUrl.startsWith('https:'),
  });
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    // HOST unset: every interface (as before); 127.0.0.1 keeps it to a proxy on the same machine
    if (config.host) http.server.listen(config.port, config.host, resolve);
    else http.server.listen(config.port, resolve);
  });
  logger.info('listening', {
    url: `http://localhost:${config.port}`,
    host: config.host ?? '(all interfaces)',
    publicUrl: config.publicUrl,
    database: database.kind,
    startupMs: Math.round(performance.now() - startedAt),
  });

  // A big fleet's console counts are read now, not when the first operator opens the console.
  const warming = performance.now();
  app.services.fleetView
    .warm()
    .then((warmed) => warmed && logger.info('console counts ready', { ms: Math.round(performance.now() - warming) }))
    .catch((err: unknown) => logger.warn('console counts: warming failed', { err }));

  const timer = setInterval(() => {
    app
      .maintenance()
      .then(tighten)
      .catch((err: unknown) => logger.error('maintenance failed', { err }));
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  const ticker = setInterval(() => {
    app.tick().catch((err: unknown) => logger.error('minute tick failed', { err }));
  }, config.sweepIntervalSec * 1000);
  ticker.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    clearInterval(timer);
    clearInterval(ticker);
    await http.close();
    await app.close();
    await database.close();
    await unlock();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  createLogger().error('failed to start', { err });
  process.exit(1);
});
