import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT } from '../helpers/server.js';

/** `npm start` without DATA_DIR keeps the embedded database under ./data where it was run, as the README says. */
describe('the default data directory', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is ./data of the directory npm start ran in, not functions/data', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdm-init-cwd-'));
    const port = await freePort();
    const env: Record<string, string | undefined> = { ...process.env, INIT_CWD: dir, PORT: String(port), LOG_LEVEL: 'warn' };
    delete env.DATA_DIR;
    delete env.DATABASE_URL;
    const proc = spawn(process.execPath, [join(REPO_ROOT, 'functions/scripts/start.mjs')], { env, stdio: 'ignore' });
    try {
      const deadline = Date.now() + 90_000;
      while (!existsSync(join(dir, 'data', 'secrets.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(join(dir, 'data', 'secrets.json'))).toBe(true);
      expect(existsSync(join(dir, 'data', 'pglite'))).toBe(true);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});
