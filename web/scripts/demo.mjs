// `npm run demo -w web`: the standalone server with the console, plus a small simulated fleet
// (tools/src/sim) so a newcomer sees live devices at once. Ctrl-C stops both.
// Its own data directory (data/demo) and admin, printed below; PORT, DEMO_DEVICES override.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PORT = process.env.PORT ?? '8080';
const DATA_DIR = join(ROOT, 'data/demo');
const ADMIN = { email: 'demo@example.com', password: 'fleet demo password' };
const DEVICES = process.env.DEMO_DEVICES ?? '25';
await mkdir(DATA_DIR, { recursive: true });

const server = spawn(process.execPath, [join(ROOT, 'functions/lib/standalone/main.js')], {
  cwd: ROOT,
  env: {
    ...process.env,
    PORT,
    DATA_DIR,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SWEEP_INTERVAL_SEC: '10',
    ALERT_HOLD_SEC: '30',
    // The simulator's outages last 1-6 beats of 15 s: with the default 12 minutes none would ever
    // show as offline; at 45 s the longer ones do, within a few minutes of starting.
    ALERT_OFFLINE_AFTER_SEC: '45',
    LOG_LEVEL: 'warn',
  },
  stdio: 'inherit',
});
const exited = new Promise((resolve) => server.once('exit', resolve));
for (;;) {
  const up = await fetch(`http://127.0.0.1:${PORT}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
  await new Promise((r) => setTimeout(r, 200));
}
process.stdout.write(
  `\n  Console: http://localhost:${PORT}  (sign in as ${ADMIN.email} / ${ADMIN.password})\n  ${DEVICES} simulated kiosks beat every 15 s, with the odd crash, freeze and outage (offline after 45 s of silence).\n\n`,
);

const sim = spawn(
  process.execPath,
  [
    join(ROOT, 'tools/lib/sim/cli.js'),
    '--url',
    `http://localhost:${PORT}`,
    '--devices',
    DEVICES,
    '--interval-sec',
    '15',
    '--chaos',
    '4',
    '--email',
    ADMIN.email,
    '--password',
    ADMIN.password,
    '--group',
    'Demo store',
    '--state',
    join(DATA_DIR, 'sim-state.json'),
    '--progress',
    'off',
  ],
  { cwd: ROOT, stdio: 'inherit' },
);

const stop = () => {
  sim.kill('SIGINT');
  server.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await Promise.all([new Promise((r) => sim.once('exit', r)), exited]);
