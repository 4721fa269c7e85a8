import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { PgAuthFailureLog } from '../../src/adapters/postgres/auth-failures.js';
import { createTestApp, sampleDevice, type TestApp } from '../helpers/app.js';

/**
 * Every authentication failure is audited (issue 13, item 9), aggregated per scope, client address and
 * minute: a flood writes one audit entry a minute per address, not one per attempt.
 */
describe.each(DB_KINDS)('authentication failures in the audit log on %s', (kind) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(kind);
  });
  afterEach(() => t.close());

  const failures = async (admin: string) => {
    const res = await t.request('GET', '/api/v1/admin/audit?action=failed_authentication&limit=100', { token: admin });
    expect(res.status).toBe(200);
    return res.json.items as {
      ip: string;
      actor: { type: string };
      target: { id: string };
      details: { scope: string; failures: number; minute: string };
    }[];
  };

  it('counts each scope and address per minute and writes the minute once it has ended', async () => {
    const admin = await t.loginAs('admin');
    // a minute boundary is crossed only when the test says so
    t.clock.set(new Date(Math.ceil(t.clock.now().getTime() / 60_000) * 60_000 + 5_000));
    const minute = new Date(Math.floor(t.clock.now().getTime() / 60_000) * 60_000).toISOString().replace('.000Z', 'Z');
    for (let i = 0; i < 3; i++) {
      const res = await t.request('POST', '/api/v1/admin/login', {
        body: { email: 'nobody@example.com', password: 'wrong password!' },
        ip: '203.0.113.9',
      });
      expect(res.status).toBe(401);
    }
    for (let i = 0; i < 50; i++) {
      expect((await t.request('GET', '/api/v1/admin/devices', { token: 'not-a-token', ip: '198.51.100.20' })).status).toBe(401);
    }
    for (let i = 0; i < 4; i++) {
      const res = await t.request('POST', '/api/v1/enroll', {
        body: { enrollmentToken: `bad-token-${i}-xxxxxxxxxxxx`, device: sampleDevice() },
        ip: '203.0.113.9',
      });
      expect(res.status).toBe(401);
    }
    expect((await t.request('POST', '/api/v1/heartbeat', { token: 'forged', body: {}, ip: '198.51.100.21' })).status).toBe(401);

    // still the same minute: nothing is written yet
    await t.app.tick();
    expect(await failures(admin)).toEqual([]);

    t.clock.advance(60_000);
    await t.app.tick();
    const entries = await failures(admin);
    const summary = entries.map((e) => [e.details.scope, e.ip, e.details.failures]).sort();
    expect(summary).toEqual(
      [
        ['admin_token', '198.51.100.20', 50],
        ['device_token', '198.51.100.21', 1],
        ['enroll', '203.0.113.9', 4],
        ['login', '203.0.113.9', 3],
      ].sort(),
    );
    for (const e of entries) {
      expect(e.actor.type).toBe('system');
      expect(e.details.minute).toBe(minute);
    }
    // written once: another tick adds nothing
    await t.app.tick();
    expect(await failures(admin)).toHaveLength(4);
  });

  it('keeps a flood to one entry a minute per address', async () => {
    const admin = await t.loginAs('admin');
    const flood = Array.from({ length: 200 }, () => t.request('GET', '/api/v1/admin/alerts', { token: 'x.y.z', ip: '192.0.2.44' }));
    expect((await Promise.all(flood)).every((r) => r.status === 401)).toBe(true);
    t.clock.advance(120_000);
    await t.app.tick();
    const entries = (await failures(admin)).filter((e) => e.ip === '192.0.2.44');
    expect(entries.reduce((n, e) => n + e.details.failures, 0)).toBe(200);
    expect(entries.length).toBeLessThanOrEqual(2); // the flood may straddle a minute boundary
  });

  it('adds a flood up in memory and writes it once: one row, no statement per failure', async () => {
    const log = new PgAuthFailureLog(t.db.db, t.clock, t.logs);
    for (let i = 0; i < 500; i++) await log.record('device_token', '192.0.2.99');
    const rows = () => t.db.db.selectFrom('auth_failures').selectAll().where('address', '=', '192.0.2.99').execute();
    expect(await rows()).toEqual([]); // held for up to a second
    await log.flush();
    expect((await rows()).map((r) => [r.scope, r.failures])).toEqual([['device_token', 500]]);
    await log.record('device_token', '192.0.2.99');
    await log.flush();
    expect((await rows()).map((r) => r.failures)).toEqual([501]);
  });
});
