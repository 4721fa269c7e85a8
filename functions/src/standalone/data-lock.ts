import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The embedded database is one PostgreSQL session on files in DATA_DIR: two processes on the same
 * directory would corrupt it. A lock file holding the owner's pid keeps a second server out; a lock
 * left by a process that no longer runs (kill -9, power loss) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && isRunning(owner)) {
        throw new Error(`another server (pid ${owner}) is using ${dataDir}; stop it or choose another DATA_DIR`, { cause: err });
      }
      await unlink(file).catch(() => undefined);
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
