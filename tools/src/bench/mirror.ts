import { runFleet } from '../sim/fleet.js';
import { BENCH_ADMIN, benchArgs, type InProcessBackend, machine, openMigrated, printResult, startBackend } from './harness.js';
import { createScratchDatabase, DEFAULT_PG_URL, dropDatabase } from './pg-admin.js';

/**
 * `npm run bench:mirror`: how many live-mirror (Firestore) document writes a fleet costs per
 * heartbeat. The backend runs in this process on the real PostgreSQL with a Mirror adapter that
 * counts what it is asked to write, and the fleet simulator drives it over HTTP. Time is compressed
 * on both sides by --time-scale: the server's clock and the devices' batteries, storage and faults
 * run K times faster than the wall clock, so --interval-sec 5 --time-scale 60 is a fleet beating
 * every 5 minutes, the hourly refresh comes every minute, and the sweep runs every simulated minute.
 */
const args = benchArgs(
  'npm run bench:mirror -- [options]\nLive-mirror document writes per heartbeat, with the fleet simulator driving the backend in compressed time.',
  {
    devices: { type: 'string', default: '2000' },
    'interval-sec': { type: 'string', default: '5' },
    'time-scale': { type: 'string', default: '60' },
    duration: { type: 'string', default: '300' },
    chaos: { type: 'string', default: '1' },
    'mains-powered': { type: 'string', default: '0' },
    pg: { type: 'string', default: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL },
    json: { type: 'string' },
  },
);

const devices = Number(args.devices);
const intervalSec = Number(args['interval-sec']);
const scale = Number(args['time-scale']);
const durationSec = Number(args.duration);
const t0 = Date.now();
const clock = { now: () => new Date(t0 + (Date.now() - t0) * scale) };

// What a Firestore adapter would be asked to write, and why: the fields that differ from the
// device's previous document (none: the periodic refresh).
type Doc = {
  id: string;
  status: string;
  battery: number | null;
  charging: boolean | null;
  app: string;
  openAlerts: string[];
  name: string;
  group: string | null;
  appVersionName: string | null;
  agentVersion: string;
};
const counts = { deviceDocs: 0, summaryDocs: 0 };
const last = new Map<string, Doc>();
let causes: Record<string, number> = {};
const FIELDS = ['status', 'battery', 'charging', 'app', 'openAlerts', 'name', 'group', 'appVersionName', 'agentVersion'] as const;
const mirror = {
  async writeDevices(docs: Doc[]) {
    counts.deviceDocs += docs.length;
    for (const doc of docs) {
      const prev = last.get(doc.id);
      last.set(doc.id, doc);
      const changed = prev ? FIELDS.filter((f) => JSON.stringify(prev[f]) !== JSON.stringify(doc[f])) : ['first'];
      const key = changed.length ? changed.join('+') : 'refresh';
      causes[key] = (causes[key] ?? 0) + 1;
    }
  },
  async writeSummary() {
    counts.summaryDocs++;
  },
  async removeDevices() {},
};

const databaseUrl = await createScratchDatabase(args.pg, 'fmdm_mirror_bench');
const database = await openMigrated(databaseUrl);
let server: InProcessBackend | undefined;
let sweeper: NodeJS.Timeout | undefined;
try {
  server = await startBackend(database, {
    config: { ADMIN_BCRYPT_ROUNDS: '4', DEVICE_SECRET_BCRYPT_ROUNDS: '4', BCRYPT_WORKERS: '2' },
    logLevel: 'error',
    clock,
    overrides: { mirror },
  });
  const { app, url } = server;

  // the sweep every simulated minute, as the scheduled function runs it
  let sweeping = false;
  sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    app
      .tick()
      .catch((err: unknown) => console.error('sweep failed', err))
      .finally(() => (sweeping = false));
  }, 60_000 / scale);

  // Enrollment and the first beats write every document once; measure only once every device beats.
  let steadyFrom: { docs: number; summaries: number; heartbeats: number; atMs: number } | undefined;
  const heartbeatsStored = async () =>
    Number(
      (
        await database.db
          .selectFrom('heartbeats')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const marker = setTimeout(
    async () => {
      steadyFrom = { docs: counts.deviceDocs, summaries: counts.summaryDocs, heartbeats: await heartbeatsStored(), atMs: Date.now() };
      causes = {};
    },
    Math.min(durationSec / 3, 2 * intervalSec + 30) * 1000,
  );

  const summary = await runFleet({
    url,
    devices,
    intervalSec,
    timeScale: scale,
    concurrency: 32,
    maxSockets: 64,
    timeoutMs: 10_000,
    chaos: Number(args.chaos),
    mainsPowered: Number(args['mains-powered']),
    seed: 7,
    appPackage: 'com.example.kiosk',
    enrollment: { kind: 'admin', ...BENCH_ADMIN },
    durationSec,
    progress: 'off',
  });
  clearTimeout(marker);
  clearInterval(sweeper);
  const end = { docs: counts.deviceDocs, summaries: counts.summaryDocs, heartbeats: await heartbeatsStored(), atMs: Date.now() };
  if (!steadyFrom) throw new Error('the run ended before the fleet was steady; give a longer --duration');
  const docs = end.docs - steadyFrom.docs;
  const beats = end.heartbeats - steadyFrom.heartbeats;
  const alerts = await database.db
    .selectFrom('alerts')
    .select(['kind'])
    .select((eb) => eb.fn.countAll().as('n'))
    .groupBy('kind')
    .execute();
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    devices,
    simulatedIntervalSec: intervalSec * scale,
    timeScale: scale,
    chaos: Number(args.chaos),
    mainsPowered: Number(args['mains-powered']),
    measuredSimulatedHours: Math.round((((end.atMs - steadyFrom.atMs) / 1000) * scale) / 360) / 10,
    heartbeats: beats,
    deviceDocWrites: docs,
    writesPerHeartbeat: Math.round((docs / beats) * 1000) / 1000,
    writesPerHeartbeatByCause: Object.fromEntries(
      Object.entries(causes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => [k, Math.round((n / beats) * 1000) / 1000]),
    ),
    summaryWrites: end.summaries - steadyFrom.summaries,
    alertsOpened: Object.fromEntries(alerts.map((a) => [a.kind, Number(a.n)])),
    simulator: { errors: summary.errors.total, commandsExecuted: summary.commands.executed },
  };
  await printResult(result, args.json);
} finally {
  if (sweeper) clearInterval(sweeper);
  await server?.close();
  await database.close();
  await dropDatabase(args.pg, databaseUrl);
}
