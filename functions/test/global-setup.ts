import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/adapters/postgres/connect.js';
import { DEFAULT_MIGRATIONS_DIR, migrateToLatest } from '../src/adapters/postgres/migrate.js';
import { databaseUrl, TEST_DATABASE_URL, TEST_DB_PREFIX } from './helpers/env.js';

const functionsDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Once per run: compile the backend (the end-to-end tests start the compiled server), and migrate one
 * template of each database kind. Each test file then gets its own database cloned from a template
 * (CREATE DATABASE ... TEMPLATE on PostgreSQL, a loaded data-directory tar on PGlite).
 */
export default async function setup(project: TestProject) {
  const hash = await migrationsHash();
  const [, pgliteTemplate, pgTemplate] = await Promise.all([build(), pgliteTemplateFor(hash), postgresTemplateFor(hash)]);
  project.provide('pgliteTemplate', pgliteTemplate);
  project.provide('pgTemplate', pgTemplate);
  project.provide('pgAdminUrl', TEST_DATABASE_URL);
}

/**
 * tsc emits even when it finds type errors; those are the typecheck step's to report (npm test runs
 * it first), and failing here would make `npm run db:codegen` impossible after a migration.
 */
async function build() {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: functionsDir }).catch((err: { stdout?: string }) => {
    process.stderr.write(`the build reported type errors (npm run typecheck shows them):\n${err.stdout ?? ''}`);
  });
}

async function migrationsHash(): Promise<string> {
  const h = createHash('sha256');
  for (const f of (await readdir(DEFAULT_MIGRATIONS_DIR)).sort()) {
    h.update(f).update(await readFile(join(DEFAULT_MIGRATIONS_DIR, f)));
  }
  return h.digest('hex').slice(0, 12);
}

async function pgliteTemplateFor(hash: string): Promise<string> {
  const dir = join(tmpdir(), 'fleet-mdm-test');
  const file = join(dir, `pglite-${hash}.tar`);
  if (await stat(file).catch(() => null)) return file;
  await mkdir(dir, { recursive: true });
  const handle = await openDatabase({ kind: 'pglite' });
  await migrateToLatest(handle.db);
  // checkpointed, so each copy starts without replaying the migrations' WAL
  await handle.pglite!.exec('checkpoint');
  const tar = await handle.pglite!.dumpDataDir('none');
  await writeFile(`${file}.tmp`, Buffer.from(await tar.arrayBuffer()));
  await handle.close();
  await import('node:fs/promises').then((fs) => fs.rename(`${file}.tmp`, file));
  return file;
}

async function postgresTemplateFor(hash: string): Promise<string> {
  const name = `fmdm_tpl_${hash}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    // Databases left behind by runs that crashed more than two hours ago.
    const stale = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${TEST_DB_PREFIX}%`]);
    for (const { datname } of stale.rows) {
      const ts = Number(datname.split('_')[2]);
      if (Number.isFinite(ts) && Date.now() - ts > 2 * 3600_000) await admin.query(`drop database if exists "${datname}" with (force)`);
    }
    const exists = await admin.query(`select 1 from pg_database where datname = $1`, [name]);
    if (exists.rowCount) return name;
    await admin.query(`create database "${name}_building"`).catch(async () => {
      await admin.query(`drop database if exists "${name}_building" with (force)`);
      await admin.query(`create database "${name}_building"`);
    });
    const handle = await openDatabase({ kind: 'postgres', url: databaseUrl(TEST_DATABASE_URL, `${name}_building`), poolMax: 1 });
    await migrateToLatest(handle.db);
    await handle.close();
    await admin.query(`alter database "${name}_building" rename to "${name}"`);
    return name;
  } finally {
    await admin.end();
  }
}
