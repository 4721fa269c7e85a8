import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../lib/standalone/main.js', import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** Milliseconds from spawn to the 'listening' log line. */
  startupMs: number;
  /** Sends a signal to the whole process group; resolves with the exit code once every process has gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A JSON POST over real HTTP, as a device or the console sends it, that gives up after 20 s. */
export const postJson = (url: string, body: unknown, token?: string): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });

/**
 * Starts the standalone server as its own process (the compiled build, or `npm start` from the
 * repository root when `viaNpm`), with a fresh DATA_DIR, and waits for it to listen.
 */
export async function startServer(
  env: Record<string, string> = {},
  opts: { viaNpm?: boolean; readyTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = env.DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'fleet-mdm-e2e-')));
  const started = performance.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, ...env };
  delete childEnv.NODE_OPTIONS; // vitest's loader hooks must not leak into the server
  const proc = opts.viaNpm
    ? spawn('npm', ['start'], { cwd: REPO_ROOT, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [MAIN], { cwd: REPO_ROOT, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close' waits for every process holding the pipes (npm and the server under it) to be gone.
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));

  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  const startupMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not listening after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = setInterval(() => {
      if (/"message":"listening"/.test(out)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    proc,
    output: () => out,
    startupMs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(-proc.pid!, signal);
        } catch {
          /* already gone */
        }
      }
      return exited;
    },
  };
}

/** The password the server printed for the generated first admin. */
export function printedPassword(output: string): string {
  const m = /Password \(shown once, store it now\): (\S+)/.exec(output);
  if (!m) throw new Error(`no generated password in output:\n${output}`);
  return m[1]!;
}
