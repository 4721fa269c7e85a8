import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertHeartbeats } from '../../src/devices/devices.repository.js';
import type { DatabaseHandle } from '../../src/adapters/postgres/connect.js';
import { createTestApp, sampleHeartbeat, type TestApp } from '../helpers/app.js';
import { oneConnection } from '../helpers/one-connection.js';

/**
 * The heartbeat batch statement is prepared once per connection (planning it cost more than running
 * it - see docs/benchmarks.md); PostgreSQL then settles on a generic plan whatever the batch size.
 * Every other statement still goes through unprepared.
 */
describe('the heartbeat statement on PostgreSQL', () => {
  let t: TestApp;
  let one: DatabaseHandle;
  const ids: string[] = [];
  beforeAll(async () => {
    t = await createTestApp('postgres');
    for (let i = 0; i < 12; i++) ids.push((await t.enrollDevice()).deviceId);
    one = await oneConnection(t); // one connection to look into
  });
  afterAll(async () => {
    await one?.close();
    await t?.close();
  });

  it('is prepared once per connection and runs on a generic plan for any batch size, storing every row', async () => {
    const now = t.clock.now();
    const policy = { now, offlineCutoff: new Date(0), refreshBefore: new Date(0), frozenAfterMs: 30_000 };
    const heartbeats = async () => (await sql<{ n: number }>`select count(*)::int as n from heartbeats`.execute(one.db)).rows[0]!.n;
    const before = await heartbeats();
    let seq = 0;
    let sent = 0;
    for (let k = 0; k < 24; k++) {
      const rows = ids.slice(0, 1 + (k % ids.length)).map((deviceId) => ({
        deviceId,
        hb: { ...sampleHeartbeat(now), bootId: 'boot-p', seq: seq++ } as never,
        receivedAt: now,
      }));
      sent += rows.length;
      const stored = await insertHeartbeats(one.db, rows, policy);
      expect(stored.size).toBe(rows.length);
    }
    expect(await heartbeats()).toBe(before + sent);
    const { rows: prepared } = await sql<{ name: string; generic_plans: number; custom_plans: number }>`
      select name, generic_plans::int, custom_plans::int from pg_prepared_statements`.execute(one.db);
    expect(prepared).toHaveLength(1); // the statements above and this one are not prepared
    expect(prepared[0]!.name).toBe('heartbeat_batch');
    expect(prepared[0]!.generic_plans + prepared[0]!.custom_plans).toBe(24);
    expect(prepared[0]!.generic_plans).toBeGreaterThan(prepared[0]!.custom_plans);
  });
});
