import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('heartbeats written in batches on %s', (kind) => {
  let t: TestApp;
  const devices: { device: EnrolledDevice; token: string }[] = [];
  beforeAll(async () => {
    t = await createTestApp(kind);
    for (let i = 0; i < 40; i++) {
      const device = await t.enrollDevice({ serial: `B-${i}` });
      devices.push({ device, token: await t.deviceToken(device) });
    }
  });
  afterAll(() => t.close());

  const beat = (token: string, body: unknown) => t.request('POST', '/api/v1/heartbeat', { token, body });
  const count = async () =>
    Number(
      (
        await t.db.db
          .selectFrom('heartbeats')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('stores every one of many concurrent heartbeats, in fewer statements than heartbeats', async () => {
    const before = t.app.services.heartbeats.stats.statements;
    const results = await Promise.all(
      devices.flatMap(({ token }, i) =>
        [0, 1, 2].map((k) =>
          beat(token, sampleHeartbeat(new Date(t.clock.now().getTime() - k * 1000), { battery: { level: i, charging: false } })),
        ),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await count()).toBe(120);
    expect(t.app.services.heartbeats.stats.statements - before).toBeLessThan(120);
    // with three heartbeats of one device in a batch, the latest state is the newest by sentAt
    const row = await t.db.db.selectFrom('devices').selectAll().where('id', '=', devices[7]!.device.deviceId).executeTakeFirstOrThrow();
    expect([row.battery_level, row.state_sent_at]).toEqual([7, t.clock.now()]);
  });

  it('fails only the heartbeat the database refuses, and stores the rest of its batch', async () => {
    const poisoned = devices[3]!.device.deviceId;
    await sql`create function refuse_one() returns trigger language plpgsql as $$
      begin if new.device_id = ${sql.lit(poisoned)}::uuid then raise exception 'refused'; end if; return new; end $$`.execute(t.db.db);
    await sql`create trigger refuse_one before insert on heartbeats for each row execute function refuse_one()`.execute(t.db.db);
    try {
      const before = await count();
      t.clock.advance(60_000);
      const results = await Promise.all(devices.slice(0, 10).map(({ token }) => beat(token, sampleHeartbeat(t.clock.now()))));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 500, 200, 200, 200, 200, 200, 200]);
      expect(await count()).toBe(before + 9);
      const state = await t.db.db.selectFrom('devices').select('last_seen_at').where('id', '=', poisoned).executeTakeFirstOrThrow();
      expect(state.last_seen_at.getTime()).toBeLessThan(t.clock.now().getTime());
    } finally {
      await sql`drop trigger refuse_one on heartbeats`.execute(t.db.db);
      await sql`drop function refuse_one()`.execute(t.db.db);
    }
  });
});
