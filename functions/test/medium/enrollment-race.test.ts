import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimToken } from '../../src/enrollment/enrollment.repository.js';
import { sha256Hex } from '../../src/core/crypto.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleDevice, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('single-use enrollment under concurrency on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('lets exactly one of 50 concurrent enrollments with one token succeed', async () => {
    const admin = await t.loginAs('admin');
    const created = await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: {} });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.request('POST', '/api/v1/enroll', {
          ip: `203.0.113.${i}`,
          body: { enrollmentToken: created.json.token, device: sampleDevice() },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    // The losers learn the token is used (409/410), or - past BCRYPT_QUEUE_PER_LANE hashes waiting at
    // once - that the enrollment lane is full (503 with Retry-After); none is anything else.
    expect(statuses.every((s) => s === 201 || s === 409 || s === 410 || s === 503)).toBe(true);
    expect(results.filter((r) => r.status === 503).every((r) => r.headers['retry-after'] !== undefined)).toBe(true);
    const devices = await t.db.db.selectFrom('devices').select('id').where('enrollment_token_id', '=', created.json.id).execute();
    expect(devices).toHaveLength(1);
    expect(devices[0]!.id).toBe(results.find((r) => r.status === 201)!.json.deviceId);
    const audited = await t.db.db.selectFrom('audit_log').select('id').where('action', '=', 'enrolled_device').execute();
    expect(audited).toHaveLength(1);
  });

  it('claims a token in SQL for exactly one of 50 concurrent transactions, past any earlier check', async () => {
    const admin = await t.loginAs('admin');
    const created = await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: {} });
    const hash = sha256Hex(created.json.token);
    const claims = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.db.db.transaction().execute(async (trx) => {
          const claimed = await claimToken(trx, hash, t.clock.now());
          // hold the row lock a moment so the others queue behind it
          await new Promise((r) => setTimeout(r, 5));
          return claimed;
        }),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('lets a token with maxUses 5 enroll exactly five of 30 concurrent devices, then reports it used', async () => {
    const admin = await t.loginAs('admin');
    const created = await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: { maxUses: 5, group: 'Batch' } });
    expect(created.json).toMatchObject({ uses: 0, maxUses: 5, status: 'active' });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.request('POST', '/api/v1/enroll', {
          ip: `203.0.113.${i}`,
          body: { enrollmentToken: created.json.token, device: sampleDevice() },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409)).toHaveLength(25);
    const devices = await t.db.db
      .selectFrom('devices')
      .select(['id', 'group_id'])
      .where('enrollment_token_id', '=', created.json.id)
      .execute();
    expect(devices).toHaveLength(5);
    expect(new Set(devices.map((d) => d.group_id)).size).toBe(1);
    const list = await t.request('GET', '/api/v1/admin/enrollment-tokens?status=used', { token: admin });
    expect(list.json.items.find((i: { id: string }) => i.id === created.json.id)).toMatchObject({ uses: 5, maxUses: 5, deviceId: null });
  });
});
