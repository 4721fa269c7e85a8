import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  createLogger,
  createNodeServer,
  createStandaloneApp,
  loadConfig,
  migrateToLatest,
  openDatabase,
  type Clock,
  type DatabaseHandle,
  type StandaloneApp,
  type StandaloneOverrides,
} from '@fleet-mdm/functions/in-process';

/** What the benchmarks share: the machine line, the bench admin, and the backend run in-process. */

/** The machine a result was measured on, as docs/benchmarks.md quotes it. */
export const machine = (): string =>
  `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;

/** Prints a bench's result as JSON, and writes it to `jsonPath` when one was given (--json). */
export async function printResult(result: unknown, jsonPath: string | undefined): Promise<void> {
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  if (jsonPath) await writeFile(jsonPath, text);
}

/** The first admin of every bench server. */
export const BENCH_ADMIN = { email: 'bench@example.com', password: 'benchmark password' } as const;

/** A pool on the scratch database, migrated to the latest schema. */
export async function openMigrated(databaseUrl: string): Promise<DatabaseHandle> {
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolMax: 10 });
  try {
    await migrateToLatest(database.db);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

export interface InProcessBackend {
  app: StandaloneApp;
  url: string;
  /** Stops listening, then closes the app (its queues and timers); the database stays open. */
  close(): Promise<void>;
}

/**
 * The backend in this process on `database`, wired as the standalone server wires it - its config
 * from `config` (environment-style keys), a clock and adapters swapped in by `overrides` (a counting
 * mirror, a push adapter) - with the bench admin created, listening on a loopback port.
 */
export async function startBackend(
  database: DatabaseHandle,
  o: { config: Record<string, string>; logLevel: 'error' | 'warn'; encryptionKey?: Buffer; clock?: Clock; overrides?: StandaloneOverrides },
): Promise<InProcessBackend> {
  const logger = createLogger({ level: o.logLevel });
  const app = createStandaloneApp({
    config: loadConfig(o.config),
    secrets: { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: o.encryptionKey ?? randomBytes(32) },
    db: database.db,
    logger,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.overrides ? { overrides: o.overrides } : {}),
  });
  await app.services.admins.ensureFirstAdmin({ ...BENCH_ADMIN, allowGenerated: false });
  const http = createNodeServer(app.handle, { trustProxy: false, logger });
  await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
  return {
    app,
    url: `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`,
    close: async () => {
      await http.close(1000);
      await app.close();
    },
  };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The bench's command line: `options` as node:util parseArgs takes them (every one with a default),
 * plus `--help`, which prints `about` and the options with their defaults. An unknown or malformed
 * option prints the same and exits 2 instead of a stack trace.
 */
export function benchArgs<const O extends Options>(about: string, options: O) {
  const usage = () =>
    [
      about,
      '',
      'options:',
      ...Object.entries(options).map(
        ([name, o]) =>
          `  --${name}${o.type === 'string' ? ' <value>' : ''}${o.default !== undefined && o.default !== '' && o.default !== false ? `  (default ${String(o.default)})` : ''}`,
      ),
      '  --help',
    ].join('\n');
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ options: { ...options, help: { type: 'boolean', default: false } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  return values as ReturnType<typeof parseArgs<{ options: O }>>['values'];
}

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The server the benches start; BENCH_SERVER_MAIN names another build's main.js for an A/B run on the same machine. */
const STANDALONE = process.env.BENCH_SERVER_MAIN ?? fileURLToPath(new URL('../../../functions/lib/standalone/main.js', import.meta.url));

/**
 * The standalone server as its own process (as operators run it) on `databaseUrl`, with the bench
 * admin, once /healthz answers. `env` adds to or overrides the environment (a JWT_SECRET the load
 * generator shares, DB_POOL_MAX, ...); `nodeArgs` go to node (e.g. --cpu-prof).
 */
export async function startStandalone(
  databaseUrl: string,
  o: { dataDir: string; env?: Record<string, string>; nodeArgs?: string[] },
): Promise<{ proc: ChildProcess; url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: o.dataDir,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_EMAIL: BENCH_ADMIN.email,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
    ADMIN_BCRYPT_ROUNDS: '4',
    DEVICE_SECRET_BCRYPT_ROUNDS: '4',
    // benches compress time (devices beat every second or two): the per-device quota at its highest
    HEARTBEAT_DEVICE_MAX_PER_MIN: '600',
    LOG_LEVEL: 'warn',
    ...o.env,
  };
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), STANDALONE], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('close', r));
  };
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${out}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { proc, url, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('server did not start');
}
