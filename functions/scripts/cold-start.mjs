// Cold start of a Firebase function, measured offline: the module import Firebase does when an
// instance starts, then the runtime build its first request triggers - time, threads and memory.
// Usage (a migrated PostgreSQL database, e.g. `createdb coldstart` and `DATABASE_URL=... npm run migrate`):
//   node scripts/cold-start.mjs [lib dir, default ./lib] [function, default heartbeat]
// COLD_START_DATABASE_URL names the database (default postgres://postgres@127.0.0.1:5432/coldstart).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const lib = pathToFileURL(resolve(process.argv[2] ?? 'lib')).href;
const fn = process.argv[3] ?? 'heartbeat';
Object.assign(process.env, {
  FUNCTIONS_EMULATOR: 'true',
  GCLOUD_PROJECT: 'demo-mdm',
  DATABASE_URL: process.env.COLD_START_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/coldstart',
  PUBLIC_URL: 'https://demo-mdm.web.app',
  JWT_SECRET: randomBytes(32).toString('hex'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  DB_PASSWORD: 'none',
  DISCORD_WEBHOOK_URL: 'none',
  SMTP_URL: 'none',
  METRICS_TOKEN: 'none',
  LOG_LEVEL: 'warn',
});
const t0 = performance.now();
await import(`${lib}/index.js`);
const t1 = performance.now();
const { getRuntime } = await import(`${lib}/firebase/runtime.js`);
const { app, database } = await getRuntime(fn);
const t2 = performance.now();
const threads = (await import('node:fs')).readdirSync('/proc/self/task').length;
console.log(
  JSON.stringify({
    function: fn,
    importMs: Math.round(t1 - t0),
    buildMs: Math.round(t2 - t1),
    totalMs: Math.round(t2 - t0),
    threads,
    rssMB: Math.round(process.memoryUsage().rss / 1048576),
  }),
);
await app.close();
await database.close();
process.exit(0);
