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
});
