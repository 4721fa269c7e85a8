import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A DATA_DIR the server has already migrated and set up once (tests/global-setup.ts). */
    dataDirTemplate: string;
  }
}

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'functions/lib/standalone/main.js');
export const ADMIN = { email: 'admin@example.com', password: 'console e2e password' };

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

/** The real standalone server (functions/lib) with a fresh DATA_DIR, serving the real console build. */
export class StandaloneServer {
  proc: ChildProcess | undefined;
  out = '';
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly env: Record<string, string>,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * A server on a DATA_DIR of its own. By default that directory starts as a copy of the run's
   * template (migrated, secrets and first admin made), which saves each file the 4-5 s of migrating
   * an empty embedded database; `fresh` starts from an empty directory, as `npm start` does.
   */
  static async start(env: Record<string, string> = {}, { fresh = false } = {}): Promise<StandaloneServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'mdm-console-e2e-'));
    if (!fresh) await cp(inject('dataDirTemplate'), dataDir, { recursive: true });
    const server = new StandaloneServer(await freePort(), dataDir, env);
    await server.boot();
    return server;
  }

  /** Starts (or restarts) the process on the same port and data directory. */
  async boot(): Promise<void> {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(this.port),
      DATA_DIR: this.dataDir,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_BCRYPT_ROUNDS: '4',
      DEVICE_SECRET_BCRYPT_ROUNDS: '4',
      // E2E_CONSOLE_DIR: another console build (e.g. an older one, to see a test fail first).
      CONSOLE_DIR: process.env.E2E_CONSOLE_DIR ?? join(ROOT, 'web/build'),
      LOG_LEVEL: 'warn',
      ...this.env,
    };
    delete childEnv.NODE_OPTIONS;
    delete childEnv.DATABASE_URL;
    const proc = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...childEnv, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const seen = this.out.length;
    proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server not listening after 90 s:\n${this.out}`)), 90_000);
      const check = setInterval(() => {
        if (this.out.slice(seen).includes('"message":"listening"')) {
          clearInterval(check);
          clearTimeout(timer);
          resolve();
        }
      }, 25);
      proc.once('exit', (code) => {
        clearInterval(check);
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${this.out}`));
      });
    });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
}
