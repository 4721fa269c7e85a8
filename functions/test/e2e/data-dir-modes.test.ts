import { chmod, lstat, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server.js';

/** Every entry under `dir` with its permission bits, as `path mode` (octal), symbolic links skipped. */
async function modes(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = async (path: string) => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return;
    out.push({ path, dir: info.isDirectory(), mode: info.mode & 0o777 });
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
  return out;
}

/**
 * The embedded database's files hold password hashes and sealed keys: the real standalone server on
 * PGlite leaves nothing under DATA_DIR that another local user can read or write (directories 0700,
 * files 0600), also when DATA_DIR was made by an earlier version with looser modes. HOST picks the
 * listen address.
 */
describe('DATA_DIR permissions and the listen address of the standalone server', () => {
  let server: ServerProcess;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'fleet-mdm-modes-')), 'data');
    // left by an earlier version: world-readable directory and file
    await mkdir(join(dataDir, 'old'), { recursive: true });
    await writeFile(join(dataDir, 'old', 'notes.txt'), 'x');
    await chmod(join(dataDir, 'old', 'notes.txt'), 0o666);
    await chmod(join(dataDir, 'old'), 0o755);
    await chmod(dataDir, 0o755);
    server = await startServer(
      {
        DATA_DIR: dataDir,
        DATABASE_URL: '',
        HOST: '127.0.0.1',
        ADMIN_EMAIL: 'admin@example.com',
        ADMIN_PASSWORD: 'modes test password',
        ADMIN_BCRYPT_ROUNDS: '4',
      },
      { readyTimeoutMs: 90_000 },
    );
  });
  afterAll(() => server?.stop());

  it('keeps every directory 0700 and every file 0600 under DATA_DIR', async () => {
    // a write goes through PGlite, so its WAL and relation files exist
    const login = await fetch(`${server.url}/api/v1/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'modes test password' }),
    });
    expect(login.status).toBe(200);
    const entries = await modes(dataDir);
    expect(entries.length).toBeGreaterThan(100);
    const loose = entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`);
    expect(loose).toEqual([]);
  });

  it('listens on HOST only', async () => {
    expect(server.output()).toMatch(/"message":"listening".*"host":"127.0.0.1"/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (other) {
      await expect(fetch(`http://${other.address}:${server.port}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    }
  });
});
