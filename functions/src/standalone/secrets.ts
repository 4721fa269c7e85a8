import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppSecrets } from '../app.js';
import type { Config } from '../config/config.js';

interface StoredSecrets {
  jwtSecret: string;
  encryptionKey: string;
}

/**
 * Secrets for standalone mode: from the environment when set, otherwise generated once and kept in
 * DATA_DIR/secrets.json (mode 0600) so sessions and sealed device keys survive restarts.
 */
export async function resolveStandaloneSecrets(config: Config): Promise<AppSecrets & { generated: boolean }> {
  if (config.jwtSecret && config.encryptionKey) {
    return { jwtSecret: config.jwtSecret, encryptionKey: Buffer.from(config.encryptionKey, 'base64'), generated: false };
  }
  const stored = await loadOrCreate(config.dataDir);
  return {
    jwtSecret: config.jwtSecret ?? stored.jwtSecret,
    encryptionKey: Buffer.from(config.encryptionKey ?? stored.encryptionKey, 'base64'),
    generated: true,
  };
}

async function loadOrCreate(dataDir: string): Promise<StoredSecrets> {
  const file = join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const fresh: StoredSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  // Write aside, then link into place: the file appears complete or not at all, and if another
  // process won the race its secrets are the ones everybody uses.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(fresh, null, 2), { mode: 0o600 });
  try {
    await link(tmp, file);
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } finally {
    await unlink(tmp);
  }
}
