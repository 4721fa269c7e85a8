import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';

describe('the embedded database directory', () => {
  it('refuses a second server on the same DATA_DIR, and takes over a lock left by a dead process', async () => {
    const first = await startServer({ DATABASE_URL: '', ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: 'first password 1' });
    try {
      await expect(startServer({ DATA_DIR: first.dataDir, DATABASE_URL: '' })).rejects.toThrow(/another server \(pid \d+\) is using/);
    } finally {
      await first.stop();
    }
    // a lock whose owner is gone (kill -9) does not keep the server down
    await writeFile(join(first.dataDir, 'server.lock'), '999999');
    const again = await startServer({ DATA_DIR: first.dataDir, DATABASE_URL: '' });
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
    await again.stop();
    // three server starts on the embedded database: 20 s alone, near 40 s beside the tools suite
  }, 120_000);
});
