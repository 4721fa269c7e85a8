import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './harness.js';

/**
 * `npm run bench:startup`: how long the standalone server takes from process start until /healthz
 * answers 200 on the embedded database - on a fresh DATA_DIR (creates and migrates the database),
 * on an existing one, and through `npm start` (which also checks the build).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'functions/lib/standalone/main.js');
const RUNS = Number(process.env.RUNS ?? 3);

async function timeToHealthy(cmd: string, args: string[], dataDir: string, port: number): Promise<number> {
  const started = performance.now();
  const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: '', ADMIN_EMAIL: '', ADMIN_PASSWORD: '' };
  const child = spawn(cmd, args, { cwd: ROOT, env, detached: true, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) return performance.now() - started;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ms (min ${Math.round(sorted[0]!)}, max ${Math.round(sorted.at(-1)!)})`;
};

const port = 18_900 + Math.floor(Math.random() * 100);
const cold: number[] = [];
const warm: number[] = [];
const viaNpm: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = await mkdtemp(join(tmpdir(), 'mdm-bench-startup-'));
  cold.push(await timeToHealthy(process.execPath, [MAIN], dir, port));
  warm.push(await timeToHealthy(process.execPath, [MAIN], dir, port));
  await rm(dir, { recursive: true, force: true });
  const npmDir = await mkdtemp(join(tmpdir(), 'mdm-bench-startup-'));
  viaNpm.push(await timeToHealthy('npm', ['start'], npmDir, port));
  await rm(npmDir, { recursive: true, force: true });
}
console.log(`machine: ${machine()}`);
console.log(`date: ${new Date().toISOString()}`);
console.log(`fresh DATA_DIR (create + migrate PGlite):  ${stats(cold)}`);
console.log(`existing DATA_DIR:                         ${stats(warm)}`);
console.log(`npm start, fresh DATA_DIR (incl. build):   ${stats(viaNpm)}`);
