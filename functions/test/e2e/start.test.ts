import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedPassword, REPO_ROOT, startServer, type ServerProcess } from '../helpers/server.js';

const run = promisify(execFile);

/** The first shell block under "## Walk-through with curl" in the README, exactly as written. */
async function readmeWalkthrough(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Walk-through with curl'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no walk-through block');
  return block[1]!;
}

describe("the README's start command on a fresh data directory", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // `npm start` from the repository root on PGlite; it must be serving within 15 s.
    server = await startServer({ ADMIN_EMAIL: '', ADMIN_PASSWORD: '', DATABASE_URL: '' }, { viaNpm: true, readyTimeoutMs: 15_000 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('comes up on the embedded database, migrated, and prints the first admin password once', async () => {
    expect(server.output()).toMatch(/"message":"listening".*"database":"pglite"/);
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(server.output().match(/shown once/g)).toHaveLength(1);
    const secrets = JSON.parse(await readFile(join(server.dataDir, 'secrets.json'), 'utf8'));
    expect(Object.keys(secrets).sort()).toEqual(['encryptionKey', 'jwtSecret']);
    // The startup figure goes to docs/benchmarks.md through `npm run bench:startup`; here it is only reported.
    console.log(`npm start -> listening in ${Math.round(server.startupMs)} ms`);
  });

  it('runs the curl walk-through as written', async () => {
    const script = await readmeWalkthrough();
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      env: {
        ...process.env,
        MDM_URL: server.url,
        MDM_PASSWORD: printedPassword(server.output()),
        MDM_NEW_PASSWORD: 'walk-through password 42',
      },
    });
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ nextHeartbeatSec: 300, commands: [] });
    expect(JSON.parse(lines[1]!)).toEqual({ displayName: 'Pixel 7 R5CT1234', status: 'online', battery: 76, app: 'com.example.kiosk' });
    expect(JSON.parse(lines[2]!)).toEqual({ type: 'PING', status: 'queued' });
    expect(JSON.parse(lines[3]!)).toEqual({ type: 'PING', v: '1', sig: 43 });
  });

  it('shuts down on SIGTERM, and starts again on the same data without a new password', async () => {
    await server.stop('SIGTERM'); // npm itself dies of the signal; the server under it must stop cleanly
    expect(server.output()).toContain('"message":"shutting down","time"');
    expect(server.output()).toContain('"message":"stopped"');
    const again = await startServer({ DATA_DIR: server.dataDir, ADMIN_EMAIL: '', ADMIN_PASSWORD: '', DATABASE_URL: '' });
    try {
      expect(again.output()).not.toContain('shown once');
      const login = await fetch(`${again.url}/api/v1/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // the walk-through changed the printed password (a generated one must be changed at first sign-in)
        body: JSON.stringify({ email: 'admin@localhost', password: 'walk-through password 42' }),
      });
      expect(login.status).toBe(200);
    } finally {
      expect(await again.stop('SIGINT')).toBe(0);
    }
  });
});
