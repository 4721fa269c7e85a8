import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/mdm.js';
import { ADMIN, buildServer, startServer, type RunningServer } from '../sim/helpers/server.js';

const run = promisify(execFile);
let server: RunningServer;
let dir: string;

/** One CLI invocation in-process; what it printed and its exit code. */
async function mdm(args: string[], opts: { signal?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { MDM_CONFIG: join(dir, 'cli.json') },
    ...opts,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  await buildServer();
  // the bin shim runs the compiled CLI (tools/lib), as `npx mdm` does
  await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: join(import.meta.dirname, '../..') });
  server = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'mdm-cli-'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the operator CLI against the standalone server', () => {
  it('refuses to work before login, and a wrong password, with exit 1 and a clear message', async () => {
    const before = await mdm(['devices']);
    expect(before).toMatchObject({ code: 1, err: 'mdm: sign in first: mdm login --url URL --email E' });
    const wrong = await mdm(['login', '--url', server.url, '--email', ADMIN.email, '--password', 'not it']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^mdm: /);
  });

  it('logs in and keeps the session in a file only its user can read', async () => {
    const res = await mdm(['login', '--url', server.url, '--email', ADMIN.email, '--password', ADMIN.password]);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toContain(`signed in to ${server.url} as ${ADMIN.email}`);
    const file = join(dir, 'cli.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ url: server.url, email: ADMIN.email });
  });

  it('creates an admin with a generated password shown once', async () => {
    const res = await mdm(['admin', 'create', '--email', 'night-shift@example.com', '--role', 'operator', '--json']);
    expect(res.code, res.err).toBe(0);
    const user = JSON.parse(res.out);
    expect(user).toMatchObject({ email: 'night-shift@example.com', role: 'operator' });
    expect(user.generatedPassword).toMatch(/.{16,}/);
  });

  it('creates a token with its ADB script, lists the enrolled device, sends it a command and lists alerts', async () => {
    const script = join(dir, 'enroll.sh');
    const created = await mdm(['token', 'create', '--label', 'Lobby', '--group', 'Store 7', '--script', script, '--json']);
    expect(created.code, created.err).toBe(0);
    const token = JSON.parse(created.out);
    const text = await readFile(script, 'utf8');
    expect(text).toContain('dpm set-device-owner');
    await run('sh', ['-n', script]); // it parses as a shell script

    // a device enrolls with the token and reports, the way the agent does
    const enrolled = await post('/api/v1/enroll', {
      enrollmentToken: token.token,
      device: { model: 'Tab A8', manufacturer: 'Samsung', androidVersion: '14', sdkInt: 34, serial: 'CLI1', agentVersion: '1.0.0' },
    });
    const session = await post('/api/v1/device/session', { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret });
    await post(
      '/api/v1/heartbeat',
      {
        sentAt: new Date().toISOString(),
        battery: { level: 64, charging: false },
        memory: { availBytes: 1e9, totalBytes: 3e9 },
        app: { package: 'com.example.kiosk', running: true, foreground: true },
        uptimeSec: 100,
        agentVersion: '1.0.0',
      },
      session.accessToken,
    );

    const list = await mdm(['devices', '--group', 'Store 7']);
    expect(list.code, list.err).toBe(0);
    expect(list.out.split('\n')[0]).toMatch(/^ID\s+NAME\s+STATUS\s+BATTERY\s+APP\s+GROUP\s+LAST SEEN$/);
    expect(list.out).toMatch(new RegExp(`${enrolled.deviceId}\\s+Tab A8 CLI1\\s+online\\s+64%\\s+running\\s+Store 7`));
    expect((await mdm(['devices', '--group', 'Nowhere'])).err).toBe('mdm: no group named Nowhere');

    const sent = await mdm(['command', 'ping', '--device', enrolled.deviceId]);
    expect(sent.code, sent.err).toBe(0);
    expect(sent.out).toMatch(/^PING queued for 1 device\(s\): [0-9a-f-]{36}$/);
    const reboot = await mdm(['command', 'REBOOT', '--group', 'Store 7']);
    expect(reboot.code).toBe(1);
    expect(reboot.err).toMatch(/confirm/i);
    expect((await mdm(['command', 'REBOOT', '--group', 'Store 7', '--yes'])).code).toBe(0);

    expect(await mdm(['alerts'])).toMatchObject({ code: 0, out: 'no open alerts' });
    const tail = new AbortController();
    setTimeout(() => tail.abort(), 1500);
    expect(await mdm(['alerts', 'tail', '--interval', '1'], { signal: tail.signal })).toMatchObject({ code: 0 });
  });

  it('answers bad usage with exit 2 and says what is wrong', async () => {
    expect(await mdm(['command', 'PING'])).toMatchObject({ code: 2, err: expect.stringContaining('exactly one target') });
    expect(await mdm(['token', 'create', '--shell', 'bat'])).toMatchObject({ code: 2, err: 'mdm: --shell is sh or ps1' });
    expect((await mdm(['devices', '--bogus'])).code).toBe(2);
    expect((await mdm(['frobnicate'])).err).toContain('unknown command');
    expect((await mdm(['command', 'PING', '--all', '--params', '{nope'])).err).toBe('mdm: --params must be a JSON object');
  });

  it('runs as a program through the bin shim, and logout forgets the session', async () => {
    const bin = join(import.meta.dirname, '../../bin/mdm.js');
    const { stdout } = await run(process.execPath, [bin, 'devices', '--json'], {
      env: { ...process.env, MDM_CONFIG: join(dir, 'cli.json') },
    });
    expect(JSON.parse(stdout)).toHaveLength(1);
    expect((await mdm(['logout'])).code).toBe(0);
    expect((await mdm(['devices'])).code).toBe(1);
  });
});

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as any;
}
