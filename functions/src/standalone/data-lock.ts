import { chmod, lstat, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The embedded database is one PostgreSQL session on files in DATA_DIR: two processes on the same
 * directory would corrupt it. A lock file holding the owner's pid keeps a second server out; a lock
 * left by a process that no longer runs (kill -9, power loss) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
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

/**
 * DATA_DIR holds password hashes, sealed device keys and the signing secrets: only the server's user
 * may read it. New files get that from the process umask (main.ts); this tightens what an earlier
 * version left behind - directories to 0700, files to 0600 - and returns how many it changed.
 * Symbolic links are left alone (never followed); a missing DATA_DIR is nothing to do.
 */
export async function restrictDataDir(dataDir: string): Promise<number> {
  let changed = 0;
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (!info || info.isSymbolicLink()) return;
    const wanted = info.isDirectory() ? 0o700 : 0o600;
    if ((info.mode & 0o777) !== wanted && (info.isDirectory() || info.isFile())) {
      await chmod(path, wanted);
      changed++;
    }
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dataDir);
  return changed;
}
