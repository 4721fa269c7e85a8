import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

/** A stand-in for adb on one factory-reset device: logs each call and answers as a device that accepts everything. */
const FAKE_ADB = `#!/bin/sh
printf '%s|' "$@" >> "$FAKE_LOG"; echo >> "$FAKE_LOG"
case "$1" in
  devices) printf 'List of devices attached\\r\\nR5CT1234\\tdevice\\r\\n\\r\\n' ;;
  install) cp "$4" "$FAKE_INSTALLED"; echo Success ;;
  shell)
    case "$2 $3" in
      'dumpsys account') printf 'Accounts: 0\\r\\n' ;;
      'dpm set-device-owner') printf 'Success: Device owner set to package %s\\r\\n' "$4" ;;
      'am broadcast') echo 'Broadcast completed: result=-1' ;;
    esac ;;
esac
`;

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

  it('runs the curl walk-through as written, and its ADB script installs the uploaded agent', async () => {
    const script = await readmeWalkthrough();
    // A scratch directory for enroll.sh, with a fake adb first on PATH; the agent is a fixture APK.
    const dir = await mkdtemp(join(tmpdir(), 'readme-walkthrough-'));
    try {
      const bin = join(dir, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'adb'), FAKE_ADB);
      await chmod(join(bin, 'adb'), 0o755);
      const agentApk = join(REPO_ROOT, 'docs/vectors/apk/agent-1.apk');
      const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', '-c', `${script}\nsh enroll.sh "$ENROLL_TOKEN"`], {
        cwd: dir,
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          MDM_URL: server.url,
          MDM_PASSWORD: printedPassword(server.output()),
          MDM_NEW_PASSWORD: 'walk-through password 42',
          AGENT_APK: agentApk,
          // the test server's URL is http://localhost: a lab server
          MDM_ALLOW_CLEARTEXT: '1',
          FAKE_LOG: join(dir, 'adb.log'),
          FAKE_INSTALLED: join(dir, 'installed.apk'),
          TMPDIR: dir,
        },
      });
      const lines = stdout.trim().split('\n');
      expect(JSON.parse(lines[0]!)).toMatchObject({ nextHeartbeatSec: 300, commands: [] });
      expect(JSON.parse(lines[1]!)).toEqual({ displayName: 'Pixel 7 R5CT1234', status: 'online', battery: 76, app: 'com.example.kiosk' });
      expect(JSON.parse(lines[2]!)).toEqual({ type: 'PING', status: 'queued' });
      expect(JSON.parse(lines[3]!)).toEqual({ type: 'PING', v: '1', sig: 43 });
      expect(JSON.parse(lines[4]!)).toEqual({ packageName: 'dev.fleetmdm.agent', versionCode: 1, versionName: '1.0.0' });
      const apk = await readFile(agentApk);
      const sha256 = createHash('sha256').update(apk).digest('hex');
      expect(lines[5]).toBe(`x-apk-sha256: ${sha256}`);
      expect(stdout).toContain('Done: the device enrolls now');
      // The ADB script installed exactly the uploaded agent, downloaded from /api/v1/apk/latest,
      // and handed the agent the new token.
      expect((await readFile(join(dir, 'installed.apk'))).equals(apk)).toBe(true);
      const calls = (await readFile(join(dir, 'adb.log'), 'utf8')).trim().split('\n');
      expect(calls.at(-1)).toMatch(/^shell\|am\|broadcast\|.*--es\|enrollment_token\|mdmet_[\w-]{43}\|--ez\|allow_cleartext\|true\|$/);
      expect(stderr).toMatch(/localhost/); // the warning that a device cannot reach localhost
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
