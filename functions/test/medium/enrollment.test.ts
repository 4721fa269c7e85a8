import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleDevice, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('enrollment on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApp(kind);
    admin = await t.loginAs('admin');
  });
  afterAll(() => t.close());

  const createToken = (body: Record<string, unknown> = {}) => t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body });
  const enroll = (enrollmentToken: string, extra: Record<string, unknown> = {}) =>
    t.request('POST', '/api/v1/enroll', { body: { enrollmentToken, device: sampleDevice(), ...extra } });

  it('creates a token shown once and stored only as a hash', async () => {
    const res = await createToken({ label: 'Lobby kiosk', group: 'Store 12', expiresInSec: 3600 });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ label: 'Lobby kiosk', group: 'Store 12', status: 'active', createdBy: 'admin@example.com' });
    expect(res.json.token).toMatch(/^mdmet_[A-Za-z0-9_-]{43}$/);
    expect(new Date(res.json.expiresAt).getTime() - t.clock.now().getTime()).toBe(3600_000);
    expect(res.json.adbScript.sh).toBe(`https://mdm.example.com/api/v1/admin/enrollment-tokens/${res.json.id}/adb-script?shell=sh`);
    const row = await t.db.db.selectFrom('enrollment_tokens').selectAll().where('id', '=', res.json.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(res.json.token.slice(6));
    const listed = await t.request('GET', '/api/v1/admin/enrollment-tokens', { token: admin });
    expect(listed.json.items.find((i: { id: string }) => i.id === res.json.id)).toBeDefined();
    expect(JSON.stringify(listed.json)).not.toContain(res.json.token);
  });

  it('enrolls once per token; reuse is 409, revoked and expired are 410, unknown is 401', async () => {
    const created = (await createToken({ group: 'Depot' })).json;
    const first = await enroll(created.token, { fcmToken: 'fcm-abc' });
    expect(first.status).toBe(201);
    expect(first.json.deviceSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.json.hmacKey, 'base64')).toHaveLength(32);
    expect(first.json.heartbeatIntervalSec).toBe(300);

    const device = await t.db.db.selectFrom('devices').selectAll().where('id', '=', first.json.deviceId).executeTakeFirstOrThrow();
    expect(device.secret_hash).toMatch(/^\$2[aby]\$/);
    expect(device.hmac_key_enc).not.toContain(first.json.hmacKey);
    expect(device.fcm_token).toBe('fcm-abc');
    expect(device.enrollment_token_id).toBe(created.id);

    expect((await enroll(created.token)).json.error.code).toBe('enrollment_token_used');
    expect((await enroll(created.token)).status).toBe(409);

    const revoked = (await createToken()).json;
    expect((await t.request('DELETE', `/api/v1/admin/enrollment-tokens/${revoked.id}`, { token: admin })).status).toBe(204);
    const r = await enroll(revoked.token);
    expect([r.status, r.json.error.code]).toEqual([410, 'enrollment_token_revoked']);

    const expiring = (await createToken({ expiresInSec: 60 })).json;
    t.clock.advance(61_000);
    const e = await enroll(expiring.token);
    expect([e.status, e.json.error.code]).toEqual([410, 'enrollment_token_expired']);

    const u = await enroll('mdmet_' + 'x'.repeat(43));
    expect([u.status, u.json.error.code]).toEqual([401, 'invalid_enrollment_token']);

    const list = await t.request('GET', '/api/v1/admin/enrollment-tokens?status=used', { token: admin });
    expect(list.json.items.map((i: { id: string }) => i.id)).toContain(created.id);
    expect(list.json.items.find((i: { id: string }) => i.id === created.id).deviceId).toBe(first.json.deviceId);
  });

  it('revoking a used token is 409, an unknown one 404, twice is a no-op audited once', async () => {
    const used = (await createToken()).json;
    await enroll(used.token);
    expect((await t.request('DELETE', `/api/v1/admin/enrollment-tokens/${used.id}`, { token: admin })).status).toBe(409);
    expect(
      (await t.request('DELETE', '/api/v1/admin/enrollment-tokens/7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6', { token: admin })).status,
    ).toBe(404);
    const fresh = (await createToken()).json;
    await t.request('DELETE', `/api/v1/admin/enrollment-tokens/${fresh.id}`, { token: admin });
    await t.request('DELETE', `/api/v1/admin/enrollment-tokens/${fresh.id}`, { token: admin });
    const audit = await t.db.db.selectFrom('audit_log').selectAll().where('target_id', '=', fresh.id).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['created_enrollment_token', 'revoked_enrollment_token']);
  });

  it('pages the token list with a cursor and filters by status', async () => {
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      await createToken({ label: `page-${i}` });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.request('GET', `/api/v1/admin/enrollment-tokens?status=active&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: admin,
      });
      expect(res.status).toBe(200);
      expect(res.json.items.length).toBeLessThanOrEqual(2);
      for (const item of res.json.items) {
        expect(item.status).toBe('active');
        seen.push(item.label);
      }
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 5)).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await t.request('GET', '/api/v1/admin/enrollment-tokens?cursor=garbage', { token: admin })).status).toBe(400);
  });

  it('serves ADB scripts for sh and PowerShell naming the server and the agent component', async () => {
    const created = (await createToken({ label: "Lobby 'A'\nrm -rf /" })).json;
    const sh = await t.request('GET', `/api/v1/admin/enrollment-tokens/${created.id}/adb-script?shell=sh`, { token: admin });
    expect(sh.status).toBe(200);
    expect(sh.headers['content-type']).toContain('text/x-shellscript');
    const script = sh.body.toString();
    expect(script).toContain("SERVER_URL='https://mdm.example.com'");
    expect(script).toContain("ADMIN_COMPONENT='dev.fleetmdm.agent/.AdminReceiver'");
    expect(script).toContain('dpm set-device-owner');
    expect(script).not.toContain('\nrm -rf /');
    expect(script).not.toContain(created.token);
    const ps1 = await t.request('GET', `/api/v1/admin/enrollment-tokens/${created.id}/adb-script?shell=ps1`, { token: admin });
    expect(ps1.body.toString()).toContain("$ServerUrl = 'https://mdm.example.com'");
    expect((await t.request('GET', `/api/v1/admin/enrollment-tokens/${created.id}/adb-script?shell=bat`, { token: admin })).status).toBe(
      400,
    );
    await enroll(created.token);
    expect((await t.request('GET', `/api/v1/admin/enrollment-tokens/${created.id}/adb-script`, { token: admin })).status).toBe(409);
  });

  it('audits token creation and enrollment with typed details', async () => {
    const created = (await createToken({ label: 'audited', group: 'Audit group' })).json;
    const enrolled = (await enroll(created.token)).json;
    const res = await t.request('GET', `/api/v1/admin/audit?deviceId=${enrolled.deviceId}`, { token: admin });
    expect(res.json.items).toHaveLength(1);
    expect(res.json.items[0]).toMatchObject({
      action: 'enrolled_device',
      actor: { type: 'device', id: enrolled.deviceId },
      details: { enrollmentTokenId: created.id, group: 'Audit group', model: 'Pixel 7' },
      ip: '192.0.2.10',
    });
    const byAction = await t.request('GET', '/api/v1/admin/audit?action=created_enrollment_token&limit=1', { token: admin });
    expect(byAction.json.items[0]).toMatchObject({ target: { type: 'enrollment_token', id: created.id }, details: { label: 'audited' } });
    expect(byAction.json.nextCursor).toEqual(expect.any(String));
  });

  it('counts failed enrollments per address, but not successful ones', async () => {
    const limited = await createTestApp(kind, { RATE_LIMIT_ENROLL_FAILURES: '3' });
    try {
      const token = await limited.loginAs('admin');
      // a provisioning station enrolling many devices from one address is never limited
      for (let i = 0; i < 6; i++) {
        const created = await limited.request('POST', '/api/v1/admin/enrollment-tokens', { token, body: {} });
        const res = await limited.request('POST', '/api/v1/enroll', {
          body: { enrollmentToken: created.json.token, device: sampleDevice() },
        });
        expect(res.status).toBe(201);
      }
      for (let i = 0; i < 3; i++) {
        const res = await limited.request('POST', '/api/v1/enroll', { body: { enrollmentToken: `guess-${i}`, device: sampleDevice() } });
        expect(res.status).toBe(401);
      }
      const blocked = await limited.request('POST', '/api/v1/enroll', { body: { enrollmentToken: 'guess', device: sampleDevice() } });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(900);
      // another address is unaffected; the window passing lifts the block
      const other = await limited.request('POST', '/api/v1/enroll', {
        ip: '198.51.100.1',
        body: { enrollmentToken: 'g', device: sampleDevice() },
      });
      expect(other.status).toBe(401);
      limited.clock.advance(901_000);
      expect((await limited.request('POST', '/api/v1/enroll', { body: { enrollmentToken: 'g', device: sampleDevice() } })).status).toBe(
        401,
      );
    } finally {
      await limited.close();
    }
  });
});
