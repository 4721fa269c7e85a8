// `npm run demo -w web`: the standalone server with the console, plus a small simulated fleet
// (tools/src/sim) so a newcomer sees live devices at once. Ctrl-C stops both.
// Its own data directory (data/demo) and admin, printed below; PORT, DEMO_DEVICES, DEMO_DATA_DIR override.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PORT = process.env.PORT ?? '8080';
const DATA_DIR = process.env.DEMO_DATA_DIR ?? join(ROOT, 'data/demo');
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
    // Short timings so every state shows within a minute (the defaults are minutes): offline after
    // 30 s of silence (the least the server takes), alerts after 10 s of a condition, a sweep every 5 s.
    SWEEP_INTERVAL_SEC: '5',
    ALERT_HOLD_SEC: '10',
    ALERT_OFFLINE_AFTER_SEC: '30',
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
  `\n  Console: http://localhost:${PORT}  (sign in as ${ADMIN.email} / ${ADMIN.password})\n` +
    `  ${DEVICES} simulated kiosks beat every 10 s. Within a minute the first five show what an operator must\n` +
    `  recognise: one offline, one on low battery, one whose app is down, one frozen, and one whose app\n` +
    `  is brought back by self-healing (its alert opens, then resolves). The others have the odd fault.\n\n`,
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
    '10',
    '--showcase',
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
