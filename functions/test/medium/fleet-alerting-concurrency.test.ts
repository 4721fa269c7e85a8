import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * The keyed table of alerting devices (migration 0029) counts a device's open alerts exactly when two
 * transactions open alerts of the same device at the same moment: the second one's recount waits for
 * the first to commit, then sees both.
 */
describe('the alerting devices table under concurrent alert changes on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('postgres');
  });
  afterAll(() => t?.close());

  it('counts both alerts when two transactions open one each for the same device', async () => {
    const { deviceId } = await t.enrollDevice();
    const pool = t.db.pool!;
    const a = await pool.connect();
    const b = await pool.connect();
    const open = (kind: string) =>
      `insert into alerts (device_id, kind, condition_since, opened_at) values ('${deviceId}', '${kind}', now(), now())`;
    try {
      await a.query('begin');
      await a.query(open('offline'));
      await b.query('begin');
      const second = b.query(open('low_battery')); // its recount waits for the first transaction
      await new Promise((r) => setTimeout(r, 300));
      await a.query('commit');
      await second;
      await b.query('commit');
    } finally {
      a.release();
      b.release();
    }
    const { rows } = await pool.query<{ n: number }>('select open_alerts as n from fleet_alerting where device_id = $1', [deviceId]);
    expect(rows).toEqual([{ n: 2 }]);
  });

  it('opens alerts for thousands of devices in one statement (a whole site going offline) and counts each', async () => {
    const pool = t.db.pool!;
    await pool.query(`
      insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, agent_version, enrolled_at, last_seen_at, serial)
      select gen_random_uuid(), 'x', 'x', 'M', 'F', '14', 34, '1.0.0', now(), now() - interval '1 hour', 'SITE' || g
      from generate_series(1, 30000) g`);
    // one lock for the statement, not one per device (30,000 exhaust the lock table of a default server)
    await pool.query(`insert into alerts (device_id, kind, condition_since, opened_at)
      select id, 'offline', now(), now() from devices where serial like 'SITE%'`);
    const { rows } = await pool.query<{ n: number; one: boolean }>(
      `select count(*)::int as n, bool_and(open_alerts = 1) as one from fleet_alerting f join devices d on d.id = f.device_id
       where d.serial like 'SITE%'`,
    );
    expect(rows).toEqual([{ n: 30000, one: true }]);
  });
});
