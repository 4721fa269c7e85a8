import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { BENCH_ADMIN, benchArgs, machine, printResult } from './harness.js';
import { createScratchDatabase, DEFAULT_PG_URL, dropDatabase } from './pg-admin.js';
import { percentiles } from './stats.js';

/**
 * `npm run bench:scale`: the data at fleet scale. Seeds a million devices (latest state, groups, a
 * realistic spread of last-seen times) and heartbeats in the order a live fleet writes them (every
 * device once per interval), then measures the bytes each heartbeat row takes with its index, and
 * the admin device list over HTTP: page of 100, by status, sorted by last seen, paged with the cursor.
 */
const args = benchArgs(
  'npm run bench:scale -- [options]\nA million devices and their heartbeats on PostgreSQL: bytes per heartbeat row, and the admin device list latency over HTTP.',
  {
    devices: { type: 'string', default: '1000000' },
    'heartbeats-per-device': { type: 'string', default: '24' },
    requests: { type: 'string', default: '400' },
    pg: { type: 'string', default: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const devices = Number(args.devices);
const perDevice = Number(args['heartbeats-per-device']);
const INTERVAL_SEC = 300;

async function seed(client: pg.Client) {
  const t0 = performance.now();
  await client.query(`insert into device_groups (name) select 'Site ' || g from generate_series(1, 200) g`);
  // 90% of devices seen within the last 5 minutes, the rest spread over the last three days.
  await client.query(
    `insert into devices (id, secret_hash, hmac_key_enc, group_id, model, manufacturer, android_version, sdk_int, serial,
       agent_version, enrolled_at, last_seen_at, state_sent_at, battery_level, battery_charging, mem_avail_bytes,
       mem_total_bytes, storage_free_bytes, storage_total_bytes, network_type, app_package, app_running, app_foreground, uptime_sec)
     select gen_random_uuid(), 'x', 'x', (select id from device_groups order by id limit 1 offset (g % 200)),
       (array['KioskPro 10','Tab A8','Pixel 7','SignageBox 4K'])[1 + g % 4], 'Acme', '13', 33, 'SN' || g, '1.0.0',
       now() - interval '30 days',
       case when g % 10 = 0 then now() - random() * interval '3 days' else now() - random() * interval '5 minutes' end,
       now(), 20 + g % 80, g % 7 = 0, 1000000000, 4000000000, 20000000000, 64000000000, 'wifi', 'com.example.kiosk',
       g % 50 <> 0, g % 50 <> 0, 86400
     from generate_series(1, $1::int) g`,
    [devices],
  );
  await client.query('vacuum analyze devices');
  const devicesMs = performance.now() - t0;

  const t1 = performance.now();
  const first = new Date(Date.now() - perDevice * INTERVAL_SEC * 1000);
  await client.query(`select mdm_ensure_heartbeat_partitions($1, 2)`, [first]);
  await client.query('create temp table ids as select id from devices');
  for (let k = 0; k < perDevice; k++) {
    const at = new Date(first.getTime() + k * INTERVAL_SEC * 1000);
    await client.query(
      `insert into heartbeats (device_id, received_at, sent_at, mem_avail_bytes, mem_total_bytes, storage_free_bytes,
         storage_total_bytes, uptime_sec, app_last_frame_age_ms, battery_level, battery_temp_dc, network_rssi,
         battery_charging, app_running, app_foreground)
       select id, $1::timestamptz + random() * interval '299 seconds', $1, 1000000000 + (random() * 1e9)::bigint, 4000000000,
         20000000000, 64000000000, 86400 + $2::int * 300, 16, 20 + (random() * 80)::int, 310, -55, false, true, true
       from ids`,
      [at, k],
    );
  }
  const { rows } = await client.query<{ heap: string; index: string }>(
    `select sum(pg_relation_size(i.inhrelid)) as heap, sum(pg_indexes_size(i.inhrelid)) as index
     from pg_inherits i where i.inhparent = 'heartbeats'::regclass`,
  );
  // Seeding a long day takes a while: spread last-seen times again around *now*, so "online" means
  // what it would in a live fleet when the list is measured.
  await client.query(
    `update devices set last_seen_at = case when right(serial, 1) = '0' then now() - random() * interval '3 days'
       else now() - random() * interval '5 minutes' end`,
  );
  await client.query('vacuum analyze devices');
  const { rows: counted } = await client.query<{ n: string }>('select count(*) as n from heartbeats');
  const n = Number(counted[0]!.n);
  const heap = Number(rows[0]!.heap);
  const index = Number(rows[0]!.index);
  return {
    seedDevicesSec: Math.round(devicesMs / 100) / 10,
    seedHeartbeatsSec: Math.round((performance.now() - t1) / 100) / 10,
    heartbeatRows: n,
    bytesPerHeartbeat: {
      heap: Math.round((heap / n) * 10) / 10,
      index: Math.round((index / n) * 10) / 10,
      total: Math.round(((heap + index) / n) * 10) / 10,
    },
  };
}

async function measureList(url: string, token: string) {
  const variants = ['', 'status=online', 'status=offline', 'sort=lastSeen', 'status=offline&sort=lastSeen'];
  const out: Record<string, Record<string, number>> = {};
  for (const v of variants) {
    const samples: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < Number(args.requests); i++) {
      const params = new URLSearchParams(v);
      params.set('limit', '100');
      if (cursor) params.set('cursor', cursor);
      const t = performance.now();
      const res = await fetch(`${url}/api/v1/admin/devices?${params}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { items: unknown[]; nextCursor: string | null };
      samples.push(performance.now() - t);
      if (res.status !== 200 || body.items.length === 0) throw new Error(`list ?${params}: ${res.status}`);
      // walk forward through the pages, starting over every 50 pages
      cursor = i % 50 === 49 ? null : body.nextCursor;
    }
    out[v || '(default)'] = percentiles(samples, [50, 95, 99, 100]);
  }
  return out;
}

const work = await mkdtemp(join(tmpdir(), 'mdm-bench-scale-'));
const databaseUrl = await createScratchDatabase(args.pg, 'fmdm_scale');
let server: ReturnType<typeof spawn> | undefined;
try {
  await promisify(execFile)(process.execPath, [join(ROOT, 'functions/lib/scripts/migrate.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const seeded = await seed(client);
  await client.end();
  console.log('seeded', JSON.stringify(seeded));

  const port = 19_600 + Math.floor(Math.random() * 300);
  server = spawn(process.execPath, [join(ROOT, 'functions/lib/standalone/main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: join(work, 'data'),
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_EMAIL: BENCH_ADMIN.email,
      ADMIN_PASSWORD: BENCH_ADMIN.password,
      ADMIN_BCRYPT_ROUNDS: '4',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (
    let i = 0;
    !(await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = await fetch(`${url}/api/v1/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  const { token } = (await login.json()) as { token: string };
  const list = await measureList(url, token);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    devices,
    heartbeatsPerDevice: perDevice,
    ...seeded,
    deviceListMs: list,
  };
  await printResult(result, args.json);
} finally {
  server?.kill('SIGTERM');
  if (!args.keep) await dropDatabase(args.pg, databaseUrl);
  else console.log(`kept ${databaseUrl}`);
  await rm(work, { recursive: true, force: true });
}
