import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../../src/bench/harness.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'functions/lib/standalone/main.js');

export const ADMIN = { email: 'sim@example.com', password: 'simulator password' };

/** Compiles the backend, so the test runs the server as it ships (functions/lib). */
export async function buildServer(): Promise<void> {
  await promisify(execFile)('npx', ['tsc', '-p', 'functions/tsconfig.build.json'], { cwd: REPO_ROOT });
}

export interface RunningServer {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * The standalone server on embedded PGlite in a fresh DATA_DIR, once it has logged "listening".
 * `env` may depend on the port it will listen on (PUBLIC_URL, for download links that must work).
 */
export async function startServer(env: Record<string, string> | ((port: number) => Record<string, string>) = {}): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'sim-e2e-'));
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEVICE_SECRET_BCRYPT_ROUNDS: '4',
    ADMIN_BCRYPT_ROUNDS: '4',
    // simulated devices beat every second or so: the per-device quota at its highest
    HEARTBEAT_DEVICE_MAX_PER_MIN: '600',
    ...(typeof env === 'function' ? env(port) : env),
  };
  delete childEnv.NODE_OPTIONS; // vitest's loader hooks must not leak into the server
  // Its own process group, so stop() reaches everything it started.
  const proc = spawn(process.execPath, [MAIN], { cwd: REPO_ROOT, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const stop = async () => {
    killGroup(proc);
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForListening(() => out, exited, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, output: () => out, stop };
}

async function waitForListening(output: () => string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (!/"message":"listening"/.test(output())) {
    if (gone) throw new Error(`server exited before listening:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`server not listening after ${timeoutMs} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function killGroup(proc: ChildProcess): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}
