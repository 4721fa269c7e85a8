import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet } from '../sim/fleet.js';
import { BENCH_ADMIN, benchArgs, machine, printResult, startStandalone } from './harness.js';
import { createScratchDatabase, DEFAULT_PG_URL, dropDatabase } from './pg-admin.js';
import { cpuSeconds, rss } from './stats.js';

/**
 * `npm run bench:storm`: fleet-wide commands one after another while a simulated fleet beats, against
 * the standalone server (its own process) on the real PostgreSQL. Every command reaches every device
 * in a heartbeat answer, is run once and reported, so each command costs the server one envelope and
 * one result per device on top of the heartbeats. It reports whether the server kept up: heartbeat
 * and result latency, overruns (a heartbeat not sent on time because the previous one was still
 * waiting), errors, and the server's CPU.
 */
const args = benchArgs(
  'npm run bench:storm -- [options]\nFleet-wide PING commands in quick succession while a simulated fleet beats; heartbeat and result latency, errors and server CPU.',
  {
    devices: { type: 'string', default: '2000' },
    'interval-sec': { type: 'string', default: '5' },
    commands: { type: 'string', default: '40' },
    'every-sec': { type: 'string', default: '2' },
    'start-after-sec': { type: 'string', default: '25' },
    duration: { type: 'string', default: '150' },
    /** After the last command, the fleet beats this much longer (at least) so every device runs and reports it. */
    'settle-sec': { type: 'string' },
    chaos: { type: 'string', default: '3' },
    pg: { type: 'string', default: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL },
    json: { type: 'string' },
  },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const devices = Number(args.devices);
const databaseUrl = await createScratchDatabase(args.pg, 'fmdm_storm');
const work = await mkdtemp(join(tmpdir(), 'mdm-bench-storm-'));
let server: Awaited<ReturnType<typeof startStandalone>> | undefined;
try {
  server = await startStandalone(databaseUrl, {
    dataDir: join(work, 'data'),
    // alerts open and resolve during the run, as they would in a fleet having a bad day
    env: { SWEEP_INTERVAL_SEC: '5', ALERT_HOLD_SEC: '10', ALERT_OFFLINE_AFTER_SEC: '30' },
  });
  const { url } = server;
  const cpuBefore = await cpuSeconds(server.proc.pid!);
  let allStarted!: () => void;
  const started = new Promise<void>((resolve) => (allStarted = resolve));
  const startedAt = performance.now();
  const stop = new AbortController();
  const fleet = runFleet({
    url,
    devices,
    intervalSec: Number(args['interval-sec']),
    concurrency: 32,
    maxSockets: 128,
    timeoutMs: 10_000,
    chaos: Number(args.chaos),
    seed: 1,
    appPackage: 'com.example.kiosk',
    enrollment: { kind: 'admin', ...BENCH_ADMIN },
    signal: stop.signal,
    progress: 'off',
    onAllStarted: allStarted,
  });

  // The storm starts once every device is enrolled (a loaded machine enrolls slowly) and not before --start-after-sec.
  // (enrolling ends either way - each device enrolls or gives up - but never wait more than 5 minutes)
  await Promise.race([
    Promise.all([started, sleep(Number(args['start-after-sec']) * 1000)]),
    new Promise((r) => setTimeout(r, 300_000).unref()),
  ]);
  const login = await fetch(`${url}/api/v1/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  const { token } = (await login.json()) as { token: string };
  const created: { status: number; count: number; ms: number }[] = [];
  for (let i = 0; i < Number(args.commands); i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/v1/admin/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'PING', all: true }),
    });
    const body = (await res.json()) as { count?: number };
    created.push({ status: res.status, count: body.count ?? 0, ms: Math.round(performance.now() - t0) });
    await sleep(Math.max(0, Number(args['every-sec']) * 1000 - (performance.now() - t0)));
  }
  // The fleet runs for --duration from its start, and in any case --settle-sec (three intervals unless
  // given) past the last command: on a slow machine enrolling eats into the run, not into the storm.
  const settleSec = Number(args['settle-sec'] ?? 3 * Number(args['interval-sec']));
  const untilDuration = Number(args.duration) * 1000 - (performance.now() - startedAt);
  await Promise.race([sleep(Math.max(settleSec * 1000, untilDuration)), fleet]);
  stop.abort();
  const summary = await fleet;
  const cpuAfter = await cpuSeconds(server.proc.pid!);
  const memory = await rss(server.proc.pid!);
  const createMs = created.map((c) => c.ms).sort((a, b) => a - b);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    devices,
    intervalSec: Number(args['interval-sec']),
    storm: {
      commands: created.length,
      everySec: Number(args['every-sec']),
      created: created.filter((c) => c.status === 201).length,
      deviceCommands: created.reduce((n, c) => n + c.count, 0),
      createMs: { p50: createMs[Math.floor(createMs.length / 2)] ?? null, max: createMs.at(-1) ?? null },
    },
    fleet: summary.devices,
    heartbeats: summary.heartbeats,
    errors: summary.errors,
    latencyMs: { heartbeat: summary.latencyMs.heartbeat, result: summary.latencyMs.result },
    onDevices: {
      received: summary.commands.received,
      executed: summary.commands.executed,
      rejected: summary.commands.rejectedBy,
      resultsReported: summary.commands.resultsReported,
    },
    server: { cpuSec: cpuBefore !== null && cpuAfter !== null ? Math.round((cpuAfter - cpuBefore) * 10) / 10 : null, ...memory },
  };
  await printResult(result, args.json);
} finally {
  await server?.stop();
  await dropDatabase(args.pg, databaseUrl);
  await rm(work, { recursive: true, force: true });
}
