import { mkdir } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { AuthTypes, IpAddressTypes } from '@google-cloud/cloud-sql-connector';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database, Db } from '../../ports/db.js';
import type { PoolStats } from '../../ports/metrics.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PreparingClient } from './prepared.js';

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolMax: number; statementTimeoutMs?: number }
  | { kind: 'pglite'; dataDir?: string; loadDataDir?: Blob; assets?: PgliteAssets }
  | ({ kind: 'cloudsql' } & CloudSqlTarget);

/**
 * PGlite's compiled WebAssembly and its file bundle. A process that opens many embedded databases
 * (the test suite: one per test file or test) loads them once and passes them in; each open then
 * skips compiling 9 MB of WebAssembly, about half of its time.
 */
export type PgliteAssets = Required<Pick<PGliteOptions, 'pgliteWasmModule' | 'fsBundle'>>;

/**
 * Cloud SQL through the Cloud SQL Node.js connector: TLS to the instance with an ephemeral
 * certificate, no authorized networks or proxy sidecar. IAM database authentication needs no password
 * (the function's service account is the database user, e.g. `sa-name@project.iam`).
 */
export interface CloudSqlTarget {
  instanceConnectionName: string;
  user: string;
  password?: string | undefined;
  database: string;
  ipType: 'PUBLIC' | 'PRIVATE' | 'PSC';
  iamAuth: boolean;
  poolMax: number;
  statementTimeoutMs?: number;
}

/** The slice of the connector this module uses (a test hands in one that dials a local server). */
export interface CloudSqlConnector {
  getOptions(opts: { instanceConnectionName: string; ipType?: IpAddressTypes; authType?: AuthTypes }): Promise<{ stream: () => Duplex }>;
  close(): void;
}

export interface DatabaseHandle {
  db: Db;
  kind: DatabaseTarget['kind'];
  /** The pg pool behind `db` (PostgreSQL only). */
  pool?: pg.Pool;
  /** The connections' counters for the pool gauges of /metrics: the pg pool, or PGlite's one session. */
  stats: PoolStats;
  /** The PGlite instance behind `db` (PGlite only). */
  pglite?: PGlite;
  close(): Promise<void>;
}

const INT8_OID = 20;
// Every bigint in this schema (byte counts, identities, version codes) stays below 2^53, so it is read
// as a number - the same as PGlite does.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openDatabase(
  target: DatabaseTarget,
  onPoolError: (err: Error) => void = () => {},
  connector?: CloudSqlConnector,
): Promise<DatabaseHandle> {
  if (target.kind === 'cloudsql') {
    // loaded only in deployments that use it
    const sdk = await import('@google-cloud/cloud-sql-connector');
    const cloudSql = connector ?? new sdk.Connector();
    const options = await cloudSql.getOptions({
      instanceConnectionName: target.instanceConnectionName,
      ipType: sdk.IpAddressTypes[target.ipType],
      authType: target.iamAuth ? sdk.AuthTypes.IAM : sdk.AuthTypes.PASSWORD,
    });
    const pool = new pg.Pool({
      ...options,
      user: target.user,
      ...(target.iamAuth ? {} : { password: target.password }),
      database: target.database,
      max: target.poolMax,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      statement_timeout: target.statementTimeoutMs ?? 15_000,
      application_name: 'fleet-mdm',
      types: pgTypes,
      Client: PreparingClient,
    });
    watchConnections(pool, onPoolError);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      pool,
      stats: pool,
      close: async () => {
        await db.destroy();
        cloudSql.close();
      },
    };
  }
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolMax,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
      statement_timeout: target.statementTimeoutMs ?? 15_000,
      application_name: 'fleet-mdm',
      types: pgTypes,
      Client: PreparingClient,
    });
    watchConnections(pool, onPoolError);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', pool, stats: pool, close: () => db.destroy() };
  }
  if (target.dataDir) await mkdir(target.dataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(target.dataDir ? { dataDir: target.dataDir } : {}),
    ...(target.loadDataDir ? { loadDataDir: target.loadDataDir } : {}),
    ...target.assets,
  });
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Database>({ dialect });
  return {
    db,
    kind: 'pglite',
    pglite,
    stats: dialect.stats,
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}

/**
 * A connection that dies must not crash the process. pg's pool listens for errors only on idle
 * clients; a client checked out (between two queries of a transaction) that loses its connection
 * emits 'error' with nobody listening - an uncaught exception. Every client gets a listener for its
 * whole life; the query in flight still fails (a 503), and the pool drops the broken client on release.
 */
function watchConnections(pool: pg.Pool, onError: (err: Error) => void): void {
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
}
