import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { encrypt, FcmPush } from '@fleet-mdm/functions/in-process';
import { BENCH_ADMIN, benchArgs, type InProcessBackend, machine, openMigrated, printResult, startBackend } from './harness.js';
import { createScratchDatabase, DEFAULT_PG_URL, dropDatabase } from './pg-admin.js';

/**
 * `npm run bench:commands`: a REBOOT for a whole fleet. Seeds N devices (with FCM tokens and sealed
 * HMAC keys) on the real PostgreSQL, runs the backend in this process with the FCM adapter over a fake
 * Messaging whose sendEach answers after a fixed delay, then times (1) creating and enqueueing the
 * fleet-wide command through the HTTP API and (2) the dispatcher claiming, signing and pushing every
 * message. The backend runs in-process through its typed entry (@fleet-mdm/functions/in-process).
 */
const args = benchArgs(
  'npm run bench:commands -- [options]\nA fleet-wide REBOOT: creating it through the API, then signing and pushing every message (to a fake FCM).',
  {
    devices: { type: 'string', default: '10000' },
    'sink-latency-ms': { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    pg: { type: 'string', default: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL },
    json: { type: 'string' },
  },
);

const devices = Number(args.devices);
const sinkLatencyMs = Number(args['sink-latency-ms']);
const encryptionKey = randomBytes(32);
let pushed = 0;
const fakeMessaging = {
  async sendEach(messages: unknown[]) {
    await new Promise((r) => setTimeout(r, sinkLatencyMs));
    pushed += messages.length;
    return {
      successCount: messages.length,
      failureCount: 0,
      responses: messages.map((_, i) => ({ success: true, messageId: `m${pushed + i}` })),
    };
  },
};

const databaseUrl = await createScratchDatabase(args.pg, 'fmdm_cmd_bench');
const database = await openMigrated(databaseUrl);
let server: InProcessBackend | undefined;
try {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(
    `insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, agent_version,
       enrolled_at, last_seen_at, fcm_token)
     select gen_random_uuid(), 'x', $2, 'KioskPro 10', 'Acme', '13', 33, '1.0.0', now(), now(), 'fcm-' || g
     from generate_series(1, $1::int) g`,
    [devices, encrypt(encryptionKey, randomBytes(32))],
  );
  await client.query('vacuum analyze devices');
  await client.end();

  server = await startBackend(database, {
    config: { ADMIN_BCRYPT_ROUNDS: '4', PUSH_CONCURRENCY: '4' },
    logLevel: 'warn',
    encryptionKey,
    overrides: { push: new FcmPush(fakeMessaging) },
  });
  const { app, url } = server;
  const login = await fetch(`${url}/api/v1/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  const { token } = (await login.json()) as { token: string };

  const runs: { createMs: number; dispatchMs: number; pushedPerSec: number; totalMs: number }[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    pushed = 0;
    const t0 = performance.now();
    const res = await fetch(`${url}/api/v1/admin/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'REBOOT', all: true, confirm: { type: 'REBOOT', count: devices } }),
    });
    const body = (await res.json()) as { count: number };
    const t1 = performance.now();
    if (res.status !== 201 || body.count !== devices) throw new Error(`create: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    await app.adapters.localQueue?.drain();
    const t2 = performance.now();
    if (pushed !== devices) throw new Error(`pushed ${pushed} of ${devices}`);
    runs.push({
      createMs: Math.round(t1 - t0),
      dispatchMs: Math.round(t2 - t1),
      pushedPerSec: Math.round(devices / ((t2 - t1) / 1000)),
      totalMs: Math.round(t2 - t0),
    });
  }
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    devices,
    sinkLatencyMs,
    runs,
  };
  await printResult(result, args.json);
} finally {
  await server?.close();
  await database.close();
  await dropDatabase(args.pg, databaseUrl);
}
