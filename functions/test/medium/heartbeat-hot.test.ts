import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertHeartbeats } from '../../src/devices/devices.repository.js';
import type { DatabaseHandle } from '../../src/adapters/postgres/connect.js';
import { createTestApp, sampleHeartbeat, type TestApp } from '../helpers/app.js';
import { oneConnection } from '../helpers/one-connection.js';

/**
 * A heartbeat's update of its device is HOT: no index of `devices` refers to a column that a
 * heartbeat changes (migration 0028), so PostgreSQL writes the new row version on the same page and
 * adds no index entry. The last contact's index lives in `device_presence`, kept equal to
 * `devices.last_seen_at` by a trigger. Counted with PostgreSQL's own per-transaction counters.
 */
describe('the heartbeat update of a device on PostgreSQL', () => {
  let t: TestApp;
  let one: DatabaseHandle;
  const ids: string[] = [];
  beforeAll(async () => {
    t = await createTestApp('postgres');
    for (let i = 0; i < 2; i++) ids.push((await t.enrollDevice()).deviceId);
    one = await oneConnection(t); // one connection: one transaction to count in
  });
  afterAll(async () => {
    await one?.close();
    await t?.close();
  });

  let round = 0;
  /** One heartbeat of each device, as the agent sends it a beat later; `change` alters one device's. */
  const beat = async (change: (i: number, hb: ReturnType<typeof sampleHeartbeat>) => object = (_, hb) => hb) => {
    round++;
    const receivedAt = new Date(t.clock.now().getTime() + round * 300_000);
    const policy = { now: receivedAt, offlineCutoff: new Date(0), refreshBefore: new Date(0), frozenAfterMs: 30_000 };
    const rows = ids.map((deviceId, i) => {
      const hb = sampleHeartbeat(new Date(receivedAt.getTime() - 1000));
      const typical = {
        ...hb,
        bootId: 'boot-hot',
        seq: round,
        uptimeSec: hb.uptimeSec + round * 300,
        memory: { ...hb.memory, availBytes: hb.memory.availBytes - round * 1_000_000 },
        app: { ...hb.app, lastFrameAgeMs: 16 + round },
      };
      return { deviceId, hb: change(i, typical) as never, receivedAt };
    });
    // (PostgreSQL 15's "xact" counters may still hold earlier transactions' counts not yet reported:
    // the difference inside one transaction is this statement's)
    const counters = async () =>
      (
        await sql<{ updated: number; hot: number }>`
          select pg_stat_get_xact_tuples_updated('devices'::regclass)::int as updated,
            pg_stat_get_xact_tuples_hot_updated('devices'::regclass)::int as hot`.execute(one.db)
      ).rows[0]!;
    // room on the page for the new versions whatever earlier rounds left (a HOT update needs it)
    await sql`vacuum devices`.execute(one.db);
    await sql`begin`.execute(one.db);
    const before = await counters();
    await insertHeartbeats(one.db, rows, policy);
    const after = await counters();
    await sql`commit`.execute(one.db);
    return { updated: after.updated - before.updated, hot: after.hot - before.hot };
  };
  const presence = async () =>
    (
      await sql<{ id: string; seen: Date; presence: Date }>`
        select d.id, d.last_seen_at as seen, p.last_seen_at as presence
        from devices d join device_presence p on p.device_id = d.id where d.id = any(${ids}::uuid[])`.execute(one.db)
    ).rows;

  it('writes no index entry of devices for a typical heartbeat, and keeps device_presence equal to the last contact', async () => {
    // a newly enrolled device's first state (app package, battery step from none) is indexed: not HOT
    expect(await beat()).toEqual({ updated: 2, hot: 0 });
    // the next beats change last contact, uptime, memory, frame age, the retry window: all HOT
    expect(await beat()).toEqual({ updated: 2, hot: 2 });
    expect(await beat()).toEqual({ updated: 2, hot: 2 });
    for (const r of await presence()) expect(r.presence).toEqual(r.seen);
    // a change the fleet view indexes (the battery's 5% step; the app going down) is not HOT, as it must not be
    expect(await beat((i, hb) => (i === 0 ? { ...hb, battery: { ...(hb as { battery: object }).battery, level: 42 } } : hb))).toEqual({
      updated: 2,
      hot: 1,
    });
    // (the first device keeps its new battery level, so its update is HOT again)
    expect(
      await beat((i, hb) =>
        i === 0
          ? { ...hb, battery: { ...(hb as { battery: object }).battery, level: 41 } }
          : { ...hb, app: { ...(hb as { app: object }).app, running: false, foreground: false } },
      ),
    ).toEqual({ updated: 2, hot: 1 });
    for (const r of await presence()) expect(r.presence).toEqual(r.seen);
  });

  it('keeps device_presence for devices inserted and updated by plain SQL too', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    await sql`
      insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, agent_version, enrolled_at, last_seen_at)
      values (${id}, 'x', 'x', 'M', 'F', '14', 34, '1.0.0', now(), '2026-01-01T00:00:00Z')`.execute(one.db);
    const seen = async () =>
      (await sql<{ at: Date }>`select last_seen_at as at from device_presence where device_id = ${id}`.execute(one.db)).rows[0]?.at;
    expect(await seen()).toEqual(new Date('2026-01-01T00:00:00Z'));
    await sql`update devices set last_seen_at = '2026-02-01T00:00:00Z' where id = ${id}`.execute(one.db);
    expect(await seen()).toEqual(new Date('2026-02-01T00:00:00Z'));
    // its group too (a group's offline devices are a range of device_presence's group index)
    const { rows: g } = await sql<{ id: string }>`insert into device_groups (name) values ('Presence test') returning id`.execute(one.db);
    await sql`update devices set group_id = ${g[0]!.id} where id = ${id}`.execute(one.db);
    const { rows: p } = await sql<{ group_id: string }>`select group_id from device_presence where device_id = ${id}`.execute(one.db);
    expect(p).toEqual([{ group_id: g[0]!.id }]);
    await sql`delete from devices where id = ${id}`.execute(one.db);
    expect(await seen()).toBeUndefined();
  });
});
