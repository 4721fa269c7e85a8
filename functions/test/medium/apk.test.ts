import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer } from '../../src/http/node-server.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const SHA = 'ab'.repeat(32);
const CHECKSUM = 'x'.repeat(43);

describe.each(DB_KINDS)('agent releases on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let operator: string;
  beforeAll(async () => {
    t = await createTestApp(kind);
    admin = await t.loginAs('admin');
    operator = await t.loginAs('operator');
  });
  afterAll(() => t.close());

  const register = (body: Record<string, unknown>, token = admin) => t.request('POST', '/api/v1/admin/apk-releases', { token, body });

  it('has no APK to hand out before a release is registered', async () => {
    const res = await t.request('GET', '/api/v1/apk/latest');
    expect([res.status, res.json.error.code]).toEqual([404, 'no_apk_release']);
    const info = await t.request('GET', '/api/v1/admin/agent-release', { token: operator });
    expect(info.json).toMatchObject({
      downloadUrl: 'https://mdm.example.com/api/v1/apk/latest',
      serverUrl: 'https://mdm.example.com',
      versionCode: null,
      sha256: null,
      signatureChecksum: null,
    });
    expect(info.json.componentName).toBe(`${info.json.packageName}/${t.config.agentAdminReceiver}`);
  });

  it('registers releases (admins only, audited), redirects downloads to the newest and counts them', async () => {
    expect((await register({ versionCode: 1, versionName: '1.0.0', url: 'https://a.example/1.apk', sha256: SHA }, operator)).status).toBe(
      403,
    );
    const v1 = await register({ versionCode: 1, versionName: '1.0.0', url: 'https://a.example/1.apk', sha256: SHA });
    expect(v1.status).toBe(201);
    const v2 = await register({
      versionCode: 2,
      versionName: '1.1.0',
      url: 'https://a.example/2.apk',
      sha256: 'CD'.repeat(32),
      signatureChecksum: CHECKSUM,
    });
    expect(v2.json).toMatchObject({ versionCode: 2, sha256: 'cd'.repeat(32), signatureChecksum: CHECKSUM, createdBy: 'admin@example.com' });

    const dl = await t.request('GET', '/api/v1/apk/latest', { headers: { 'user-agent': 'curl/8' } });
    expect(dl.status).toBe(302);
    expect(dl.headers.location).toBe('https://a.example/2.apk');
    expect(dl.headers['x-apk-sha256']).toBe('cd'.repeat(32));
    await t.request('GET', '/api/v1/apk/latest');

    const list = await t.request('GET', '/api/v1/admin/apk-releases', { token: operator });
    expect(list.json.items.map((r: { versionCode: number; downloads: number }) => [r.versionCode, r.downloads])).toEqual([
      [2, 2],
      [1, 0],
    ]);
    const info = await t.request('GET', '/api/v1/admin/agent-release', { token: operator });
    expect(info.json).toMatchObject({ versionCode: 2, versionName: '1.1.0', sha256: 'cd'.repeat(32), signatureChecksum: CHECKSUM });

    const audit = await t.request('GET', '/api/v1/admin/audit?action=registered_apk_release', { token: admin });
    expect(audit.json.items).toHaveLength(2);
    const ua = await t.db.db.selectFrom('apk_downloads').select('user_agent').orderBy('id').execute();
    expect(ua[0]?.user_agent).toBe('curl/8');
  });

  it('stores an uploaded APK (admins only), serves it from here with its hash and counts the download', async () => {
    const apk = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(300_000, 7)]);
    const upload = (query: string, body: Buffer, token = admin, type = 'application/vnd.android.package-archive') =>
      t.request('POST', `/api/v1/admin/apk-releases/upload?${query}`, { token, rawBody: body, headers: { 'content-type': type } });
    expect((await upload('versionCode=3&versionName=1.2.0', apk, operator)).status).toBe(403);
    expect((await upload('versionCode=3&versionName=1.2.0', apk, admin, 'application/json')).status).toBe(415);
    const notApk = await upload('versionCode=3&versionName=1.2.0', Buffer.from('hello, not a zip at all, really not'));
    expect([notApk.status, notApk.json.error.code]).toEqual([400, 'not_an_apk']);
    expect((await upload('versionCode=0&versionName=1.2.0', apk)).status).toBe(400);

    const sha = (await import('node:crypto')).createHash('sha256').update(apk).digest('hex');
    const stored = await upload(`versionCode=3&versionName=1.2.0&signatureChecksum=${CHECKSUM}`, apk);
    expect(stored.status).toBe(201);
    expect(stored.json).toMatchObject({
      versionCode: 3,
      url: null,
      stored: true,
      sizeBytes: apk.length,
      sha256: sha,
      signatureChecksum: CHECKSUM,
    });

    const dl = await t.request('GET', '/api/v1/apk/latest');
    expect(dl.status).toBe(200);
    expect(dl.headers['content-type']).toBe('application/vnd.android.package-archive');
    expect(dl.headers['x-apk-sha256']).toBe(sha);
    expect(dl.headers['content-disposition']).toBe('attachment; filename="fleet-mdm-agent-1.2.0.apk"');
    expect(Buffer.compare(dl.body as Buffer, apk)).toBe(0);
    const info = await t.request('GET', '/api/v1/admin/agent-release', { token: operator });
    expect(info.json).toMatchObject({ versionCode: 3, sha256: sha });
    const list = await t.request('GET', '/api/v1/admin/apk-releases', { token: operator });
    expect(list.json.items[0]).toMatchObject({ versionCode: 3, downloads: 1, stored: true });
    expect(JSON.stringify(list.json).length).toBeLessThan(10_000); // the bytes are never listed
  });

  it('takes an upload larger than the JSON limit over HTTP, and only on the upload route', async () => {
    const http = createNodeServer(t.app.handle, { trustProxy: false, logger: t.logs });
    await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    try {
      const apk = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(2_000_000, 1)]);
      const up = await fetch(`${url}/api/v1/admin/apk-releases/upload?versionCode=4&versionName=1.3.0`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/vnd.android.package-archive' },
        body: apk,
      });
      expect(up.status).toBe(201);
      const dl = await fetch(`${url}/api/v1/apk/latest`);
      expect(Buffer.from(await dl.arrayBuffer()).length).toBe(apk.length);
      const big = await fetch(`${url}/api/v1/admin/enrollment-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'x'.repeat(200_000) }),
      });
      expect(big.status).toBe(413);
    } finally {
      await http.close(100);
    }
  });

  it('refuses a duplicate version and malformed releases without writing anything', async () => {
    const before = await t.db.db
      .selectFrom('apk_releases')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const dup = await register({ versionCode: 2, versionName: 'again', url: 'https://a.example/x.apk', sha256: SHA });
    expect([dup.status, dup.json.error.code]).toEqual([409, 'apk_release_exists']);
    for (const bad of [
      { versionCode: 0, versionName: 'x', url: 'https://a.example/x.apk', sha256: SHA },
      { versionCode: 9, versionName: 'x', url: 'javascript:alert(1)', sha256: SHA },
      { versionCode: 9, versionName: 'x', url: 'https://a.example/x.apk', sha256: 'nothex' },
      { versionCode: 9, versionName: 'x', url: 'https://a.example/x.apk', sha256: SHA, signatureChecksum: 'short' },
      { versionCode: 9, versionName: '', url: 'https://a.example/x.apk', sha256: SHA },
      { versionCode: 9, versionName: 'x', url: 'https://a.example/x.apk', sha256: SHA, extra: 1 },
    ]) {
      const res = await register(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const after = await t.db.db
      .selectFrom('apk_releases')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});
