import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dropPostgresDatabase } from '../helpers/db.js';
import { databaseUrl, TEST_DB_PREFIX } from '../helpers/env.js';
import { freePort, REPO_ROOT } from '../helpers/server.js';

const run = promisify(execFile);
const FUNCTIONS = join(REPO_ROOT, 'functions');

/**
 * The Firebase shape run for real, offline: `firebase emulators:exec` serves the built functions
 * (functions/lib/index.js) and Hosting with the repository's own firebase.json, and a device's life
 * goes through Hosting's rewrites to the heartbeat, device and api functions into PostgreSQL. The
 * project is a throwaway directory that links the built code, so the emulator's .env.local and
 * .secret.local never touch the working tree, and every emulator gets a free port.
 */
describe('the Firebase functions in the emulator', () => {
  let project: string;
  let url: string;
  let hosting: string;
  let pool: pg.Pool;
  const password = randomBytes(12).toString('base64url');

  beforeAll(async () => {
    const name = `${TEST_DB_PREFIX}emu_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    url = databaseUrl(inject('pgAdminUrl'), name);
    pool = new pg.Pool({ connectionString: url, max: 2 });

    project = await mkdtemp(join(tmpdir(), 'fmdm-emu-'));
    const firebaseJson = JSON.parse(await readFile(join(REPO_ROOT, 'firebase.json'), 'utf8'));
    const emulators = firebaseJson.emulators;
    for (const key of ['functions', 'hosting']) emulators[key] = { host: '127.0.0.1', port: await freePort() };
    for (const key of ['hub', 'logging', 'eventarc', 'tasks']) emulators[key] = { host: '127.0.0.1', port: await freePort() };
    await writeFile(join(project, 'firebase.json'), JSON.stringify(firebaseJson, null, 2));
    await writeFile(join(project, '.firebaserc'), await readFile(join(REPO_ROOT, '.firebaserc')));
    await mkdir(join(project, 'functions'));
    await mkdir(join(project, 'web', 'build'), { recursive: true });
    await writeFile(join(project, 'web', 'build', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(project, 'functions', 'package.json'), await readFile(join(FUNCTIONS, 'package.json')));
    await symlink(join(FUNCTIONS, 'lib'), join(project, 'functions', 'lib'));
    await symlink(join(REPO_ROOT, 'node_modules'), join(project, 'functions', 'node_modules'));
    hosting = `http://127.0.0.1:${emulators.hosting.port}`;
    await writeFile(join(project, 'functions', '.env.local'), `PUBLIC_URL=${hosting}\nDATABASE_URL=${url}\n`);
    await writeFile(
      join(project, 'functions', '.secret.local'),
      [
        `JWT_SECRET=${randomBytes(32).toString('base64url')}`,
        `ENCRYPTION_KEY=${randomBytes(32).toString('base64')}`,
        'DB_PASSWORD=none',
        'DISCORD_WEBHOOK_URL=none',
        'SMTP_URL=none',
        'METRICS_TOKEN=none',
        '',
      ].join('\n'),
    );
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    if (url) await dropPostgresDatabase(url);
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('migrates an empty database and creates the first admin with npm run migrate', async () => {
    const env = { ...process.env, DATABASE_URL: url, ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: password };
    const first = await run('node', [join(FUNCTIONS, 'lib/scripts/migrate.js')], { env });
    expect(first.stdout).toMatch(/applied: 0001_init, .*0007_apk_releases/);
    expect(first.stdout).toContain('created the first admin ops@example.com');
    const again = await run('node', [join(FUNCTIONS, 'lib/scripts/migrate.js')], { env });
    expect(again.stdout).toContain('already up to date');
    expect(again.stdout).toContain('admins exist');
  }, 60_000);

  it('enrolls a device and takes its heartbeats and a command result through Hosting and the HTTPS functions', async () => {
    const firebase = join(REPO_ROOT, 'node_modules', '.bin', 'firebase');
    const child = spawn(
      firebase,
      [
        'emulators:exec',
        '--only',
        'functions,hosting',
        '--project',
        'demo-mdm',
        `node ${join(FUNCTIONS, 'test/emulator/device-flow.mjs')}`,
      ],
      {
        cwd: project,
        env: { ...process.env, MDM_URL: hosting, MDM_EMAIL: 'ops@example.com', MDM_PASSWORD: password, FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output).toBe(0);

    // each route went to its own function through the rewrites in firebase.json
    expect(output).toMatch(/Rewriting \/api\/v1\/heartbeat to \S+\/europe-west1\/heartbeat/);
    expect(output).toMatch(/Rewriting \/api\/v1\/enroll to \S+\/europe-west1\/device/);
    expect(output).toMatch(/Rewriting \/api\/v1\/admin\/login to \S+\/europe-west1\/api/);

    const line = output.split('\n').find((l) => l.startsWith('{"deviceId"'));
    expect(line, output).toBeDefined();
    const seen = JSON.parse(line!);
    expect(seen).toMatchObject({ heartbeats: 3, nextHeartbeatSec: 300, commandStatus: 'succeeded' });
    expect(seen.device).toMatchObject({ status: 'online', battery: { level: 78 }, group: { name: 'Lab' } });

    // and it is all in PostgreSQL
    const beats = await pool.query('select count(*)::int as n from heartbeats where device_id = $1', [seen.deviceId]);
    expect(beats.rows[0].n).toBe(3);
    const cmd = await pool.query('select status from commands where device_id = $1', [seen.deviceId]);
    expect(cmd.rows).toEqual([{ status: 'succeeded' }]);
  }, 180_000);
});
