import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle, type PgliteAssets } from '../../src/adapters/postgres/connect.js';
import { databaseUrl, TEST_DB_PREFIX } from './env.js';

export type DbKind = 'pglite' | 'postgres';
export const DB_KINDS: DbKind[] = ['pglite', 'postgres'];
/**
 * For the scenario files whose every test builds a fresh app (alerts, self-healing, alert hours,
 * rollouts, the live mirror): PostgreSQL only. The same flows run end to end on the embedded database
 * in the console's and the simulator's suites, which start the standalone server on PGlite (the demo,
 * field, alert-hours, rollouts and console browser tests, the simulator's rollout); here an embedded
 * database would take a second to open for each test, against a fifth of that for a PostgreSQL clone
 * (docs/benchmarks.md, the test run).
 */
export const SCENARIO_DB_KINDS: DbKind[] = ['postgres'];

export interface TestDatabase extends DatabaseHandle {
  /** Connection URL (PostgreSQL only), e.g. for a server process under test. */
  url?: string;
}

let assets: Promise<PgliteAssets> | undefined;
let template: Promise<Buffer> | undefined;

/**
 * PGlite's WebAssembly compiled once per test worker (the workers share their module state): an
 * embedded database then opens in about 1 s instead of 2-3 s, and the suite opens about a hundred.
 */
function pgliteAssets(): Promise<PgliteAssets> {
  assets ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [wasm, data] = await Promise.all([readFile(join(dist, 'pglite.wasm')), readFile(join(dist, 'pglite.data'))]);
    // @types/node 20 declares no WebAssembly namespace; Node has it
    const wasmApi = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<PgliteAssets['pgliteWasmModule']> } })
      .WebAssembly;
    return { pgliteWasmModule: await wasmApi.compile(wasm), fsBundle: new Blob([data]) };
  })();
  return assets;
}

/** A migrated database of its own for one test file; `close` drops it. */
export async function createTestDatabase(kind: DbKind, poolMax = 10): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const [tar, loaded] = await Promise.all([(template ??= readFile(inject('pgliteTemplate'))), pgliteAssets()]);
    return openDatabase({ kind: 'pglite', loadDataDir: new Blob([tar]), assets: loaded });
  }
  const url = await clonePostgresDatabase();
  const handle = await openDatabase({ kind: 'postgres', url, poolMax });
  return {
    ...handle,
    url,
    close: async () => {
      await handle.close();
      await dropPostgresDatabase(url);
    },
  };
}

/** CREATE DATABASE ... TEMPLATE: a migrated PostgreSQL database in a few milliseconds. */
export async function clonePostgresDatabase(): Promise<string> {
  const name = `${TEST_DB_PREFIX}${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`create database "${name}" template "${inject('pgTemplate')}"`);
  } finally {
    await admin.end();
  }
  return databaseUrl(inject('pgAdminUrl'), name);
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}
