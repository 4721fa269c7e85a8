import { createHash } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsignedApk, zip } from '../../../docs/vectors/apk/build-apk.mjs';
import { DiskBlobStore } from '../../src/adapters/local/disk-blob-store.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type TestApp } from '../helpers/app.js';

const dir = new URL('../../../docs/vectors/apk/', import.meta.url);
const apk = (name: string) => readFileSync(new URL(`${name}.apk`, dir));
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  { sha256: string; signerSha256: string }
>;
const SIGNER_A = expected['agent-1']!.signerSha256;
const SIGNER_B = expected['kiosk-10']!.signerSha256;
const APK_TYPE = { 'content-type': 'application/vnd.android.package-archive' };

describe.each(DB_KINDS)('the app catalog on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let operator: string;
  let blobDir: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'catalog-blobs-'));
    t = await createTestApp(kind, { APK_MAX_BYTES: String(1024 * 1024) }, { blobs: new DiskBlobStore(blobDir) });
    admin = await t.loginAs('admin');
    operator = await t.loginAs('operator');
  });
  afterAll(() => t.close());

  const upload = (body: Buffer, query = '', token = admin, path = '/api/v1/admin/releases') =>
    t.request('POST', `${path}${query ? `?${query}` : ''}`, { token, rawBody: body, headers: APK_TYPE });
  /** What is stored: release rows and blob files. */
  const stored = async () => ({
    rows: Number(
      (
        await t.db.db
          .selectFrom('apk_releases')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
    files: (await readdir(join(blobDir, 'apk')).catch(() => [])).length,
  });

  it('has no agent to hand out before the first upload', async () => {
    const res = await t.request('GET', '/api/v1/apk/latest');
    expect([res.status, res.json.error.code]).toEqual([404, 'no_apk_release']);
    const info = await t.request('GET', '/api/v1/admin/agent-release', { token: operator });
    expect(info.json).toMatchObject({ versionCode: null, sha256: null, signatureChecksum: null });
  });

  it('parses an upload, pins its signer, stores it 0600 and audits it (admins only)', async () => {
    expect((await upload(apk('agent-2'), '', operator)).status).toBe(403);
    const res = await upload(apk('agent-2'), 'notes=first%20build');
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      packageName: 'dev.fleetmdm.agent',
      versionCode: 2,
      versionName: '1.1.0',
      minSdk: 24,
      targetSdk: 34,
      signerSha256: SIGNER_A,
      signatureChecksum: Buffer.from(SIGNER_A, 'hex').toString('base64url'),
      signatureScheme: 'v3',
      sha256: expected['agent-2']!.sha256,
      notes: 'first build',
      bad: null,
      createdBy: 'admin@example.com',
    });
    ids['agent-2'] = res.json.id;
    expect(await stored()).toEqual({ rows: 1, files: 1 });
    const packages = await t.request('GET', '/api/v1/admin/packages', { token: operator });
    expect(packages.json.items).toEqual([
      expect.objectContaining({ packageName: 'dev.fleetmdm.agent', signerSha256: SIGNER_A, releases: 1 }),
    ]);
    const audit = await t.request('GET', '/api/v1/admin/audit?action=uploaded_release', { token: admin });
    expect(audit.json.items[0].details).toMatchObject({ versionCode: 2, pinnedSigner: true, downgrade: false });
  });

  it('serves the newest agent and a release by id with its hash and signer, counting downloads', async () => {
    const latest = await t.request('GET', '/api/v1/apk/latest', { headers: { 'user-agent': 'curl/8' } });
    expect(latest.status).toBe(200);
    expect(latest.headers['x-apk-sha256']).toBe(expected['agent-2']!.sha256);
    expect(latest.headers['x-apk-signer-sha256']).toBe(SIGNER_A);
    expect(
      createHash('sha256')
        .update(latest.body as Buffer)
        .digest('hex'),
    ).toBe(expected['agent-2']!.sha256);
    const byId = await t.request('GET', `/api/v1/releases/${ids['agent-2']}/apk`);
    expect(Buffer.compare(byId.body as Buffer, apk('agent-2'))).toBe(0);
    const one = await t.request('GET', `/api/v1/admin/releases/${ids['agent-2']}`, { token: operator });
    expect(one.json.downloads).toBe(2);
    const info = await t.request('GET', '/api/v1/admin/agent-release', { token: operator });
    expect(info.json).toMatchObject({ versionCode: 2, sha256: expected['agent-2']!.sha256, signatureChecksum: one.json.signatureChecksum });
  });

  it('refuses a downgrade unless asked for, and the same version twice', async () => {
    const down = await upload(apk('agent-1'));
    expect([down.status, down.json.error.code]).toEqual([409, 'downgrade_refused']);
    const again = await upload(apk('agent-2'));
    expect([again.status, again.json.error.code]).toEqual([409, 'release_exists']);
    expect(await stored()).toEqual({ rows: 1, files: 1 });
    const allowed = await upload(apk('agent-1'), 'allowDowngrade=true');
    expect(allowed.status).toBe(201);
    ids['agent-1'] = allowed.json.id;
    const latest = await t.request('GET', '/api/v1/apk/latest');
    expect(latest.headers['x-apk-version-code']).toBe('2'); // the newest version, not the newest upload
  });

  it('refuses another signer until an admin rotates the pin, with a reason, audited', async () => {
    const other = await upload(apk('agent-3-other-signer'));
    expect([other.status, other.json.error.code]).toEqual([409, 'signer_mismatch']);
    expect(await stored()).toEqual({ rows: 2, files: 2 });
    const rotate = (body: unknown, token = admin, pkg = 'dev.fleetmdm.agent') =>
      t.request('POST', `/api/v1/admin/packages/${pkg}/signer`, { token, body });
    expect((await rotate({ signerSha256: SIGNER_B, reason: 'new key' }, operator)).status).toBe(403);
    expect((await rotate({ signerSha256: SIGNER_B })).status).toBe(400); // a reason is required
    expect((await rotate({ signerSha256: SIGNER_B, reason: 'x' }, admin, 'com.unknown.app')).status).toBe(404);
    const same = await rotate({ signerSha256: SIGNER_A, reason: 'no change' });
    expect([same.status, same.json.error.code]).toEqual([409, 'signer_unchanged']);
    const ok = await rotate({ signerSha256: SIGNER_B, reason: 'signing key rotated (ticket 42)' });
    expect(ok.json).toMatchObject({ packageName: 'dev.fleetmdm.agent', signerSha256: SIGNER_B });
    const audit = await t.request('GET', '/api/v1/admin/audit?action=rotated_signer', { token: admin });
    expect(audit.json.items[0].details).toEqual({ from: SIGNER_A, to: SIGNER_B, reason: 'signing key rotated (ticket 42)' });
    const now = await upload(apk('agent-3-other-signer'));
    expect(now.status).toBe(201);
    ids['agent-3'] = now.json.id;
    const old = await upload(apk('agent-2-other-signer'));
    expect([old.status, old.json.error.code]).toEqual([409, 'release_exists']);
  });

  it('keeps packages apart: a kiosk app pins its own signer', async () => {
    const kiosk = await upload(apk('kiosk-10'), 'notes=kiosk');
    expect(kiosk.json).toMatchObject({ packageName: 'com.example.kiosk', versionCode: 10, signatureScheme: 'v2', signerSha256: SIGNER_B });
    ids.kiosk = kiosk.json.id;
    const list = await t.request('GET', '/api/v1/admin/releases?package=com.example.kiosk', { token: operator });
    expect(list.json.items.map((r: { versionCode: number }) => r.versionCode)).toEqual([10]);
  });

  it('refuses each bad input with a 4xx and a code, storing nothing', async () => {
    const before = await stored();
    const big = Buffer.concat([apk('agent-1'), Buffer.alloc(1024 * 1024)]);
    const cases: [string, Buffer, string, number, string][] = [
      ['text', Buffer.from('hello, not a zip at all, really not'), '', 400, 'not_an_apk'],
      ['a ZIP of hello.txt', zip([{ name: 'hello.txt', data: Buffer.from('hello') }]), '', 400, 'invalid_manifest'],
      ['unsigned', unsignedApk({ packageName: 'com.example.kiosk', versionCode: 11, versionName: '2.1' }), '', 400, 'unsigned_apk'],
      ['v1-only', apk('agent-3-v1-only'), '', 400, 'unsigned_apk'],
      ['too large', big, '', 413, 'payload_too_large'],
      ['hash mismatch', apk('kiosk-10'), `sha256=${'0'.repeat(64)}`, 400, 'hash_mismatch'],
      ['another version than said', apk('kiosk-10'), 'versionCode=11', 400, 'apk_mismatch'],
    ];
    const tampered = Buffer.from(apk('kiosk-10'));
    tampered[10] = tampered[10]! ^ 1; // the first entry's modification time: read by nobody, covered by the signature
    cases.push(['changed after signing', tampered, '', 400, 'invalid_signature']);
    for (const [name, body, query, status, code] of cases) {
      const res = await upload(body, query);
      expect([res.status, res.json.error.code], name).toEqual([status, code]);
    }
    expect((await t.request('POST', '/api/v1/admin/releases', { token: admin, body: { url: 'https://x' } })).status).toBe(415);
    expect(await stored()).toEqual(before);
  });

  it("keeps the agent pipeline's upload path, checking what it says against the APK", async () => {
    const res = await upload(apk('agent-2-other-signer'), 'versionCode=2&versionName=1.1.0', admin, '/api/v1/admin/apk-releases/upload');
    expect([res.status, res.json.error.code]).toEqual([409, 'release_exists']); // parsed and checked like any upload
  });

  it('installs only catalog releases: the envelope carries URL, sha256, signer and package', async () => {
    const device = await t.enrollDevice();
    const send = (params: Record<string, unknown>) =>
      t.request('POST', '/api/v1/admin/commands', { token: operator, body: { type: 'INSTALL_APK', params, deviceIds: [device.deviceId] } });
    const free = await send({ url: 'https://127.0.0.1:8443/attacker.apk', sha256: 'a'.repeat(64), versionCode: 9 });
    expect([free.status, free.json.error.code]).toEqual([400, 'install_needs_release']);
    const unknown = await send({ releaseId: '00000000-0000-4000-8000-000000000000' });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'release_not_found']);
    expect((await send({ releaseId: ids.kiosk })).status).toBe(201);
    const token = await t.deviceToken(device);
    const beat = await t.request('POST', '/api/v1/heartbeat', { token, body: sampleHeartbeat(t.clock.now()) });
    const envelope = beat.json.commands.find((c: { type: string }) => c.type === 'INSTALL_APK');
    expect(JSON.parse(envelope.params)).toEqual({
      releaseId: ids.kiosk,
      packageName: 'com.example.kiosk',
      versionCode: 10,
      versionName: '2.0.0',
      url: `https://mdm.example.com/api/v1/releases/${ids.kiosk}/apk`,
      sha256: expected['kiosk-10']!.sha256,
      signerSha256: SIGNER_B,
    });
  });

  it('marks a release bad (admins only, audited): never installed or served again', async () => {
    const mark = (id: string, token = admin) =>
      t.request('POST', `/api/v1/admin/releases/${id}/bad`, { token, body: { reason: 'crashes on start' } });
    expect((await mark(ids['agent-3']!, operator)).status).toBe(403);
    const res = await mark(ids['agent-3']!);
    expect(res.json.bad).toMatchObject({ reason: 'crashes on start', by: 'admin@example.com' });
    expect((await mark(ids['agent-3']!)).status).toBe(200); // again: no change, one audit entry
    const audit = await t.request('GET', '/api/v1/admin/audit?action=marked_release_bad', { token: admin });
    expect(audit.json.items).toHaveLength(1);
    const dl = await t.request('GET', `/api/v1/releases/${ids['agent-3']}/apk`);
    expect([dl.status, dl.json.error.code]).toEqual([410, 'release_bad']);
    const latest = await t.request('GET', '/api/v1/apk/latest');
    expect(latest.headers['x-apk-version-code']).toBe('2'); // the newest good one
    const device = await t.enrollDevice();
    const install = await t.request('POST', '/api/v1/admin/commands', {
      token: operator,
      body: { type: 'INSTALL_APK', params: { releaseId: ids['agent-3'] }, deviceIds: [device.deviceId] },
    });
    expect([install.status, install.json.error.code]).toEqual([409, 'release_bad']);
  });

  it('counts the devices running each version', async () => {
    const device = await t.enrollDevice({ agentVersion: '1.1.0' });
    const token = await t.deviceToken(device);
    await t.request('POST', '/api/v1/heartbeat', {
      token,
      body: sampleHeartbeat(t.clock.now(), {
        agentVersion: '1.1.0',
        app: { package: 'com.example.kiosk', running: true, foreground: true, versionName: '2.0.0', versionCode: 10 },
      }),
    });
    const list = await t.request('GET', '/api/v1/admin/releases', { token: operator });
    const byId = new Map(list.json.items.map((r: { id: string; devices: number }) => [r.id, r.devices]));
    expect(byId.get(ids.kiosk)).toBe(1);
    expect(byId.get(ids['agent-2'])).toBeGreaterThanOrEqual(1);
  });
});
