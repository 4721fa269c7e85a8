import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BENCH_ADMIN, benchArgs, machine, printResult, startStandalone } from './harness.js';
import type { CeilingOptions } from './db-ceiling.js';
import type { LoadOptions, LoadResult } from './load.js';
import { createScratchDatabase, DEFAULT_PG_URL, dropDatabase } from './pg-admin.js';
import { cpuSeconds, databaseBackendCpu, postgresCpuSeconds, rss, walCounters } from './stats.js';

/**
 * `npm run bench:heartbeat`: the standalone server on the real PostgreSQL, devices pre-enrolled,
 * heartbeats driven over HTTP by a separate process for a fixed time; then the raw database ceiling
 * for the same writes straight through `pg`; then the ratio of the two.
 */
const args = benchArgs(
  'npm run bench:heartbeat -- [options]\nHeartbeats over HTTP to the standalone server on PostgreSQL for a fixed time (open loop), then its capacity (closed loop) and the raw database ceiling.',
  {
    devices: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '3400' },
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    pool: { type: 'string', default: '' },
    'capacity-duration': { type: 'string', default: '20' },
    'capacity-connections': { type: 'string', default: '256' },
    'skip-capacity': { type: 'boolean', default: false },
    'ceiling-clients': { type: 'string', default: '16' },
    'ceiling-duration': { type: 'string', default: '20' },
    'skip-ceiling': { type: 'boolean', default: false },
    pg: { type: 'string', default: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
    'boot-ids': { type: 'boolean', default: false },
  },
);

const LOAD = fileURLToPath(new URL('./load.js', import.meta.url));
const CEILING = fileURLToPath(new URL('./db-ceiling.js', import.meta.url));

function runChild<T>(script: string, options: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${script} exited ${code}`))));
  });
}

async function post(url: string, body: unknown, token?: string): Promise<Record<string, string>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}

/** One device enrolled through the API, then copied in SQL: every seeded device has a real row. */
async function seedDevices(url: string, databaseUrl: string, count: number): Promise<string[]> {
  const admin = (await post(`${url}/api/v1/admin/login`, BENCH_ADMIN)).token!;
  const token = (await post(`${url}/api/v1/admin/enrollment-tokens`, { label: 'bench', group: 'Bench' }, admin)).token!;
  const device = {
    model: 'KioskPro 10',
    manufacturer: 'Acme',
    androidVersion: '13',
    sdkInt: 33,
    serial: 'BENCH-0',
    agentVersion: '1.0.0',
  };
  const first = (await post(`${url}/api/v1/enroll`, { enrollmentToken: token, device })).deviceId!;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `insert into devices (id, secret_hash, hmac_key_enc, group_id, enrollment_token_id, model, manufacturer,
         android_version, sdk_int, serial, agent_version, enrolled_at, last_seen_at)
       select gen_random_uuid(), t.secret_hash, t.hmac_key_enc, t.group_id, t.enrollment_token_id, t.model, t.manufacturer,
         t.android_version, t.sdk_int, 'BENCH-' || g, t.agent_version, now(), now() - random() * interval '5 minutes'
       from devices t, generate_series(1, $2::int) g where t.id = $1`,
      [first, count - 1],
    );
    await client.query('vacuum analyze devices');
    // Flush the seed out of the WAL now, so its checkpoint does not land in the measured minute.
    await client.query('checkpoint');
    const { rows } = await client.query<{ id: string }>('select id from devices');
    return rows.map((r) => r.id).sort(() => Math.random() - 0.5);
  } finally {
    await client.end();
  }
}

const devices = Number(args.devices);
const work = await mkdtemp(join(tmpdir(), 'mdm-bench-hb-'));
const databaseUrl = await createScratchDatabase(args.pg, 'fmdm_bench');
const jwtSecret = randomBytes(32).toString('hex');
let server: Awaited<ReturnType<typeof startStandalone>> | undefined;
try {
  server = await startStandalone(databaseUrl, {
    dataDir: join(work, 'data'),
    env: { JWT_SECRET: jwtSecret, ...(args.pool ? { DB_POOL_MAX: args.pool } : {}) },
    nodeArgs: args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : [],
  });
  const seedStart = performance.now();
  const ids = await seedDevices(server.url, databaseUrl, devices);
  const idsFile = join(work, 'devices.json');
  await writeFile(idsFile, JSON.stringify(ids));
  console.log(`seeded ${ids.length} devices in ${Math.round(performance.now() - seedStart)} ms`);

  const observer = new pg.Client({ connectionString: databaseUrl });
  await observer.connect();
  const heartbeatsStored = async () => Number((await observer.query<{ n: string }>('select count(*) as n from heartbeats')).rows[0]!.n);
  /**
   * Runs `run`, and what it cost per heartbeat stored meanwhile: the server process's CPU, and that of
   * the backends serving this database (not the cluster's other work).
   */
  const pid = server.proc.pid!;
  const costed = async <T>(run: () => Promise<T>) => {
    const storedBefore = await heartbeatsStored();
    const serverBefore = await cpuSeconds(pid);
    const backends = databaseBackendCpu((q, p) => observer.query(q, p), new URL(databaseUrl).pathname.slice(1));
    const result = await run();
    const backendSec = await backends.stop();
    const serverAfter = await cpuSeconds(pid);
    const stored = (await heartbeatsStored()) - storedBefore;
    const serverSec = serverBefore !== null && serverAfter !== null ? serverAfter - serverBefore : null;
    const per = (sec: number) => Math.round((sec / Math.max(1, stored)) * 1e6);
    return { result, serverSec, cost: { stored, server: serverSec === null ? null : per(serverSec), postgresBackends: per(backendSec) } };
  };

  const walBefore = await walCounters((q) => observer.query(q));
  const pgCpuBefore = await postgresCpuSeconds();
  const wallBefore = performance.now();
  const load: LoadOptions = {
    mode: 'open',
    url: server.url,
    jwtSecret,
    deviceIdsFile: idsFile,
    rate: Number(args.rate),
    durationSec: Number(args.duration),
    warmupSec: Number(args.warmup),
    connections: Number(args.connections),
    bootIds: args['boot-ids'],
  };
  const timed = await costed(() => runChild<LoadResult>(LOAD, load));
  const http = timed.result;
  const pgCpu = (await postgresCpuSeconds()) - pgCpuBefore;
  const wallSec = (performance.now() - wallBefore) / 1000;
  const memory = await rss(pid);
  const walAfter = await walCounters((q) => observer.query(q));
  const stored = timed.cost.stored;

  // Capacity: as many heartbeats as the server takes, closed loop, after the timed run. Its cost per
  // heartbeat too: at full load the fixed costs (timers, the sweep, a statement's round trip) spread
  // over bigger batches, so it is the lower bound of what a heartbeat costs this build.
  const atCapacity = args['skip-capacity']
    ? null
    : await costed(() =>
        runChild<LoadResult>(LOAD, {
          ...load,
          mode: 'closed',
          durationSec: Number(args['capacity-duration']),
          warmupSec: 3,
          connections: Number(args['capacity-connections']),
        } satisfies LoadOptions),
      );
  const capacity = atCapacity?.result ?? null;
  await observer.end();

  const ceiling = args['skip-ceiling']
    ? null
    : await runChild<{ clients: number; statements: number; errors: number; perSec: number }>(CEILING, {
        databaseUrl,
        deviceIdsFile: idsFile,
        clients: Number(args['ceiling-clients']),
        durationSec: Number(args['ceiling-duration']),
      } satisfies CeilingOptions);

  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    devices,
    http,
    // CPU used during the HTTP run (warm-up included), in cores: where the machine's two cores went.
    cpuCores: {
      wallSec: Math.round(wallSec),
      server: timed.serverSec === null ? null : Math.round((timed.serverSec / wallSec) * 100) / 100,
      generator: Math.round((http.generatorCpuSec / wallSec) * 100) / 100,
      postgres: Math.round((pgCpu / wallSec) * 100) / 100,
    },
    // Cost per heartbeat: process CPU time over heartbeats stored during the HTTP run (warm-up
    // included), in microseconds - the server process, and every PostgreSQL process of the cluster.
    cpuMicrosecondsPerHeartbeat: {
      stored,
      server: timed.cost.server,
      postgres: Math.round((pgCpu / Math.max(1, stored)) * 1e6),
      // only the backends serving the benchmark's database: the figure to compare when anything else
      // runs on the same cluster (the line above counts every PostgreSQL process, background ones too)
      postgresBackends: timed.cost.postgresBackends,
      // the same during the capacity run (closed loop, warm-up included)
      atCapacity: atCapacity?.cost ?? null,
    },
    serverRssMb: memory,
    // PostgreSQL's write-ahead log during the HTTP run (warm-up included), per heartbeat stored: full
    // page images are what a checkpoint costs every page written after it; checkpoints that start
    // during the run are what the tail latency pays for.
    wal: {
      bytesPerHeartbeat: Math.round((walAfter.bytes - walBefore.bytes) / Math.max(1, stored)),
      fullPageImagesPerHeartbeat: Math.round(((walAfter.fullPageImages - walBefore.fullPageImages) / Math.max(1, stored)) * 1000) / 1000,
      checkpoints: walAfter.checkpoints - walBefore.checkpoints,
    },
    capacity: capacity && { perSec: capacity.sustainedPerSec, errors: capacity.errors, latencyMs: capacity.latencyMs },
    dbCeiling: ceiling,
    // Heartbeats/s over HTTP (the capacity run when there is one) per raw database statement/s.
    ratio: ceiling ? Math.round(((capacity?.sustainedPerSec ?? http.sustainedPerSec) / ceiling.perSec) * 100) / 100 : null,
  };
  await printResult(result, args.json);
} finally {
  await server?.stop();
  await dropDatabase(args.pg, databaseUrl);
  await rm(work, { recursive: true, force: true });
}
