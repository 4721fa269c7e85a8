import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startServer, type RunningServer } from '../sim/helpers/server.js';
import { runMdm } from './helpers.js';

const run = promisify(execFile);
let server: RunningServer;
let dir: string;
const mdm = (args: string[]) => runMdm(dir, args);

beforeAll(async () => {
  // the bin shim runs the compiled CLI (tools/lib, built by the global set-up), as `npx mdm` does
  server = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'mdm-cli-'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sessions and server contexts', () => {
  it('refuses to work before login, and a wrong password, with exit 1 and a clear message', async () => {
    const before = await mdm(['devices']);
    expect(before).toMatchObject({ code: 1, err: 'mdm: sign in first: mdm login --url URL --email E' });
    const wrong = await mdm(['login', '--url', server.url, '--email', ADMIN.email, '--password', 'not it']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^mdm: /);
  });

  it('keeps named servers with a session each, in a file only its user can read', async () => {
    expect(await mdm(['context', 'add', 'prod', server.url])).toMatchObject({ code: 0, out: `context prod: ${server.url} (in use)` });
    expect((await mdm(['context', 'add', 'staging', 'http://127.0.0.1:9'])).out).toContain('(mdm context use staging)');
    const login = await mdm(['login', '--email', ADMIN.email, '--password', ADMIN.password]);
    expect(login.code, login.err).toBe(0);
    expect(login.out).toMatch(new RegExp(`^signed in to ${server.url} as ${ADMIN.email} until \\S+ \\(context prod\\)$`));

    const file = join(dir, 'cli.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored).toMatchObject({ current: 'prod', contexts: { prod: { url: server.url, email: ADMIN.email }, staging: {} } });
    expect(stored.contexts.prod.token).toBeTruthy();
    expect(stored.contexts.staging.token).toBeUndefined();

    const list = await mdm(['context', 'list']);
    expect(list.out.split('\n')).toEqual([
      expect.stringMatching(/^\s+NAME\s+URL\s+SIGNED IN AS$/),
      expect.stringMatching(new RegExp(`^\\*\\s+prod\\s+${server.url}\\s+${ADMIN.email}$`)),
      expect.stringMatching(/^\s+staging\s+http:\/\/127\.0\.0\.1:9\s+-$/),
    ]);

    expect((await mdm(['context', 'use', 'staging'])).out).toBe('using staging: http://127.0.0.1:9 - not signed in yet: mdm login');
    expect(await mdm(['users'])).toMatchObject({ code: 1, err: 'mdm: sign in to staging first: mdm login' });
    expect((await mdm(['users', '--context', 'prod'])).code).toBe(0); // one run against another server
    expect(await mdm(['context', 'use', 'nowhere'])).toMatchObject({ code: 2, err: 'mdm: no context named nowhere: mdm context list' });
    expect((await mdm(['context', 'remove', 'staging'])).code).toBe(0);
    expect((await mdm(['context', 'use', 'prod'])).code).toBe(0);
    expect(JSON.parse((await mdm(['context', 'list', '--json'])).out)).toEqual([
      { name: 'prod', current: true, url: server.url, email: ADMIN.email, signedIn: true },
    ]);
  });

  it('reads the single login an older CLI wrote as the "default" context', async () => {
    const old = await mkdtemp(join(tmpdir(), 'mdm-cli-old-'));
    const token = JSON.parse(await readFile(join(dir, 'cli.json'), 'utf8')).contexts.prod.token;
    await writeFile(join(old, 'cli.json'), JSON.stringify({ url: server.url, email: ADMIN.email, token, expiresAt: null }), {
      mode: 0o600,
    });
    expect((await runMdm(old, ['context', 'list'])).out).toMatch(/^\*\s+default\s+/m);
    expect((await runMdm(old, ['users'])).code).toBe(0);
    await rm(old, { recursive: true, force: true });
  });
});

describe('users and enrollment tokens', () => {
  it('creates an admin with a generated password shown once, and lists users', async () => {
    const res = await mdm(['admin', 'create', '--email', 'night-shift@example.com', '--role', 'operator', '--json']);
    expect(res.code, res.err).toBe(0);
    const user = JSON.parse(res.out);
    expect(user).toMatchObject({ email: 'night-shift@example.com', role: 'operator' });
    expect(user.generatedPassword).toMatch(/.{16,}/);

    const users = await mdm(['users']);
    expect(users.out.split('\n')[0]).toMatch(/^ID\s+EMAIL\s+NAME\s+ROLE\s+STATUS\s+LAST LOGIN$/);
    expect(users.out).toMatch(new RegExp(`${user.id}\\s+night-shift@example.com\\s+.*operator\\s+active\\s+never`));
    expect(JSON.parse((await mdm(['users', '--json'])).out).map((u: { email: string }) => u.email)).toContain(ADMIN.email);
  });

  it('answers a refused field with the option the operator typed, in one sentence', async () => {
    expect(await mdm(['token', 'create', '--expires-in', '5'])).toMatchObject({ code: 1, err: 'mdm: --expires-in must be at least 60' });
    expect(await mdm(['admin', 'create', '--email', 'nobody', '--role', 'viewer'])).toMatchObject({
      code: 1,
      err: 'mdm: --email must be an e-mail address',
    });
    expect(await mdm(['admin', 'create', '--email', 'x@example.com', '--role', 'boss'])).toMatchObject({
      code: 2,
      err: 'mdm: --role is viewer, operator, admin',
    });
  });

  it('revokes tokens by a prefix of their id, and lists the matches of an ambiguous one', async () => {
    const ids: string[] = [];
    let shared: string | undefined;
    while (!shared) {
      // 17 tokens at most: two then start with the same hex digit
      const created = await mdm(['token', 'create', '--label', `Kiosk ${ids.length}`, '--script', join(dir, 'enroll.sh'), '--json']);
      expect(created.code, created.err).toBe(0);
      const id: string = JSON.parse(created.out).id;
      shared = ids.find((other) => other[0] === id[0]);
      ids.push(id);
    }
    const first = shared[0]!;
    const ambiguous = await mdm(['token', 'revoke', first]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toMatch(new RegExp(`^mdm: "${first}" matches \\d+ tokens: .*${shared}.*; type more of the id$`));

    const revoked = await mdm(['token', 'revoke', shared.slice(0, 8)]);
    expect(revoked).toMatchObject({ code: 0, out: `revoked ${shared}` });
    const list = JSON.parse((await mdm(['token', 'list', '--json'])).out);
    expect(list.find((t: { id: string }) => t.id === shared).status).toBe('revoked');
    expect(await mdm(['token', 'revoke', 'zz'])).toMatchObject({ code: 2, err: 'mdm: "zz" is not a token id or the start of one' });
    expect((await mdm(['token', 'list'])).out.split('\n')[0]).toMatch(/^ID\s+LABEL\s+GROUP\s+STATUS\s+USES\s+EXPIRES$/);
  });
});

describe('the app catalog', () => {
  const fixture = (name: string) => join(import.meta.dirname, `../../../docs/vectors/apk/${name}.apk`);

  it('uploads APKs, lists them, refuses another signer until the pin is rotated, and marks a release bad', async () => {
    const up = await mdm(['releases', 'upload', fixture('agent-2'), '--notes', 'from the CLI', '--json']);
    expect(up.code, up.err).toBe(0);
    const release = JSON.parse(up.out);
    expect(release).toMatchObject({ packageName: 'dev.fleetmdm.agent', versionCode: 2, notes: 'from the CLI' });
    const down = await mdm(['releases', 'upload', fixture('agent-1')]);
    expect(down).toMatchObject({ code: 1, err: expect.stringContaining('allowDowngrade') });
    expect((await mdm(['releases', 'upload', fixture('agent-1'), '--allow-downgrade'])).code).toBe(0);
    const other = await mdm(['releases', 'upload', fixture('agent-3-other-signer')]);
    expect(other).toMatchObject({ code: 1, err: expect.stringContaining('pinned') });
    const signer = JSON.parse(await readFile(join(import.meta.dirname, '../../../docs/vectors/apk/expected.json'), 'utf8'))[
      'agent-3-other-signer'
    ].signerSha256 as string;
    expect((await mdm(['releases', 'rotate-signer', 'dev.fleetmdm.agent', '--signer', signer])).code).toBe(2); // a reason is required
    const rotated = await mdm(['releases', 'rotate-signer', 'dev.fleetmdm.agent', '--signer', signer, '--reason', 'new key']);
    expect(rotated).toMatchObject({ code: 0, out: `dev.fleetmdm.agent now accepts releases signed by ${signer}` });
    expect((await mdm(['releases', 'upload', fixture('agent-3-other-signer')])).code).toBe(0);
    const bad = await mdm(['releases', 'bad', release.id.slice(0, 8), '--reason', 'crashes']);
    expect(bad).toMatchObject({ code: 0, out: expect.stringContaining('marked dev.fleetmdm.agent 1.1.0 (2) bad') });
    const list = await mdm(['releases']);
    expect(list.out.split('\n')).toHaveLength(3);
    expect(list.out).toContain('BAD: crashes');
    expect((await mdm(['releases', 'upload', join(import.meta.dirname, 'helpers.ts')])).err).toContain('not a ZIP');
  });

  it('registers a release by URL: the server refuses what is not https, and loopback by its egress policy', async () => {
    expect((await mdm(['releases', 'register'])).code).toBe(2); // --url is required
    const plain = await mdm(['releases', 'register', '--url', 'http://example.com/app.apk']);
    expect(plain).toMatchObject({ code: 1, err: expect.stringContaining('only https URLs') });
    const loopback = await mdm(['releases', 'register', '--url', `https://127.0.0.1:9/app.apk`, '--notes', 'x']);
    expect(loopback).toMatchObject({ code: 1, err: expect.stringContaining('not allowed') });
  });
});

describe('rollouts', () => {
  it('starts a rollout from release ids or their prefixes, and says clearly why it cannot', async () => {
    expect((await mdm(['rollouts', 'start', '--from', 'x'])).code).toBe(2);
    const releases = JSON.parse((await mdm(['releases', '--json'])).out) as { id: string; versionCode: number }[];
    const id = (v: number) => releases.find((r) => r.versionCode === v)!.id.slice(0, 8);
    const args = ['--waves', '10,50,100', '--soak', '600', '--name', 'cli'];
    const bad = await mdm(['rollouts', 'start', '--from', id(1), '--to', id(2), ...args]);
    expect(bad).toMatchObject({ code: 1, err: expect.stringContaining('marked bad') });
    const none = await mdm(['rollouts', 'start', '--from', id(1), '--to', id(3), ...args]);
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('no active device reports dev.fleetmdm.agent 1') });
    expect((await mdm(['rollouts', 'start', '--from', id(1), '--to', id(3), '--waves', '50,10', '--soak', '60'])).err).toContain(
      'cumulative',
    );
    expect(await mdm(['rollouts'])).toMatchObject({ code: 0, out: 'no rollouts: mdm rollouts start' });
    expect((await mdm(['rollouts', 'pause', 'abc'])).code).toBe(2);
  });
});

describe('help and usage', () => {
  it('lists every command type the server takes, with the params of those that have any', async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as any;
    const body = doc.paths['/api/v1/admin/commands'].post.requestBody.content['application/json'].schema;
    const types: string[] = body.properties.type.enum;
    const help = await mdm(['help']);
    expect(help.code).toBe(0);
    for (const type of types) expect(help.out).toMatch(new RegExp(`^  ${type}\\s+\\S`, 'm'));
    expect(help.out).toContain(`--params '{"releaseId": "<release id>", "allowDowngrade": false}'`);
    expect((await mdm(['--help'])).out).toBe(help.out);
  });

  it('answers bad usage with exit 2 and says what is wrong', async () => {
    expect(await mdm(['command', 'PING'])).toMatchObject({ code: 2, err: expect.stringContaining('exactly one target') });
    expect(await mdm(['token', 'create', '--shell', 'bat'])).toMatchObject({ code: 2, err: 'mdm: --shell is sh or ps1' });
    expect((await mdm(['devices', '--bogus'])).code).toBe(2);
    expect((await mdm(['frobnicate'])).err).toContain('unknown command');
    expect((await mdm(['command', 'PING', '--all', '--params', '{nope'])).err).toBe('mdm: --params must be a JSON object');
    expect((await mdm(['alerts', 'ack'])).code).toBe(2);
    expect((await mdm(['device', 'show'])).code).toBe(2);
    expect(await mdm(['command', 'SHUTDOWN', '--all'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^mdm: there is no command type SHUTDOWN: PING, /),
    });
  });

  it('runs as a program through the bin shim, and logout ends the session', async () => {
    const bin = join(import.meta.dirname, '../../bin/mdm.js');
    const { stdout } = await run(process.execPath, [bin, 'users', '--json'], {
      env: { ...process.env, MDM_CONFIG: join(dir, 'cli.json') },
    });
    expect(JSON.parse(stdout).length).toBeGreaterThan(0);
    expect((await mdm(['logout'])).code).toBe(0);
    expect(await mdm(['users'])).toMatchObject({ code: 1, err: 'mdm: sign in to prod first: mdm login' });
  });
});
