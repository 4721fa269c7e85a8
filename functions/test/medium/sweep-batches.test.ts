import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../src/alerts/sweep.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const MINUTE = 60_000;

/**
 * A whole fleet going offline at once (a region's outage, the server down for longer than the offline
 * threshold) or coming back at once. At a million devices the sweep's one statement, opening an alert
 * for every device, ran past the statement timeout on every tick and rolled back: no offline alert ever
 * opened (and the rest of the tick stopped with it). The sweep now opens and resolves a batch per
 * statement, runs statements while the round's time lasts, and leaves the rest to the next round,
 * remembering the oldest offline device not alerted yet. Here with batches of 100 and 250 devices.
 */
describe.each(DB_KINDS)('the alert sweep in batches on %s', (kind) => {
  let t: TestApp;
  const DEVICES = 250;

  beforeAll(async () => {
    t = await createTestApp(kind);
    const now = t.clock.now();
    // 250 devices whose last contact is spread over a minute, an hour ago (device_presence follows by trigger)
    await sql`
      insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, agent_version,
        enrolled_at, last_seen_at, serial, battery_level, battery_charging, app_package, app_running, app_foreground)
      select gen_random_uuid(), 'x', 'x', 'M', 'F', '14', 34, '1.0.0', ${new Date(now.getTime() - 90 * MINUTE)}::timestamptz,
        ${new Date(now.getTime() - 60 * MINUTE)}::timestamptz + g * interval '200 milliseconds', 'WAVE' || g, 80, false, 'com.example.kiosk', true, true
      from generate_series(1, ${DEVICES}) g`.execute(t.db.db);
  });
  afterAll(() => t.close());

  const settings = () => t.app.services.alertSettings.current();
  const openOffline = async () =>
    Number(
      (
        await t.db.db
          .selectFrom('alerts')
          .select((e) => e.fn.countAll().as('n'))
          .where('kind', '=', 'offline')
          .where('status', '=', 'open')
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('opens a batch per statement, oldest first, and the rest in later rounds, even after the lookback has passed them', async () => {
    // one statement a round (no time for a second)
    const first = await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100, budgetMs: 0 });
    expect(first).toMatchObject({ ran: true, opened: 100, more: true });
    expect(await openOffline()).toBe(100);
    // the oldest first: the devices alerted are the first 100 to have gone silent
    const alerted = await sql<{ serial: string }>`
      select d.serial from alerts a join devices d on d.id = a.device_id where a.kind = 'offline' order by d.serial`.execute(t.db.db);
    expect(new Set(alerted.rows.map((r) => r.serial))).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `WAVE${i + 1}`)));
    // the next round comes half an hour later, far past the sweep's ten-minute lookback: the devices
    // left over are still found (sweep_state keeps the oldest of them)
    t.clock.advance(30 * MINUTE);
    expect(await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100, budgetMs: 0 })).toMatchObject({ opened: 100, more: true });
    const last = await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100, budgetMs: 0 });
    expect(last).toMatchObject({ opened: 50, more: false });
    expect(await openOffline()).toBe(DEVICES);
    expect(
      (await t.db.db.selectFrom('sweep_state').select('offline_backlog_from').executeTakeFirstOrThrow()).offline_backlog_from,
    ).toBeNull();
    // nothing more, and no alert twice
    expect(await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100 })).toMatchObject({ opened: 0, resolved: 0, more: false });
    const twice = await sql<{ n: number }>`
      select count(*)::int as n from (select device_id from alerts where kind = 'offline' group by device_id having count(*) > 1) x`.execute(
      t.db.db,
    );
    expect(twice.rows[0]!.n).toBe(0);
  });

  it('resolves a batch per statement when the fleet comes back, and runs statements while the round has time', async () => {
    await sql`update devices set last_seen_at = ${t.clock.now()}::timestamptz where serial like 'WAVE%'`.execute(t.db.db);
    const one = await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100, budgetMs: 0 });
    expect(one).toMatchObject({ resolved: 100, more: true });
    expect(await openOffline()).toBe(DEVICES - 100);
    // with the default time for a round, one call does the rest, statement after statement
    const rest = await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100 });
    expect(rest).toMatchObject({ resolved: 150, more: false });
    expect(rest.changedDevices).toHaveLength(150);
    expect(await openOffline()).toBe(0);
  });

  it('does not let standing alerts fill the batch: a new alert opens however many are open already', async () => {
    // 150 devices online with their app down for two hours and its alert open since (more than a batch)
    const now = t.clock.now();
    const longAgo = new Date(now.getTime() - 120 * MINUTE);
    await sql`update devices set app_running = false, last_seen_at = ${now}::timestamptz where serial like 'WAVE%' and substr(serial, 5)::int <= 150`.execute(
      t.db.db,
    );
    await sql`insert into alert_conditions (device_id, kind, since) select id, 'app_down', ${longAgo}::timestamptz from devices
      where serial like 'WAVE%' and substr(serial, 5)::int <= 150`.execute(t.db.db);
    await sql`insert into alerts (device_id, kind, condition_since, opened_at) select id, 'app_down', ${longAgo}::timestamptz, ${longAgo}::timestamptz
      from devices where serial like 'WAVE%' and substr(serial, 5)::int <= 150`.execute(t.db.db);
    // and one device that has just gone silent (13 minutes): its offline alert is the only new one
    await sql`
      insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, agent_version, enrolled_at, last_seen_at, serial)
      values (gen_random_uuid(), 'x', 'x', 'M', 'F', '14', 34, '1.0.0', ${longAgo}::timestamptz,
        ${new Date(now.getTime() - 13 * MINUTE)}::timestamptz, 'NEW1')`.execute(t.db.db);
    const r = await sweep(t.db.db, await settings(), t.clock.now(), { batch: 100, budgetMs: 0 });
    expect(r).toMatchObject({ opened: 1, more: false });
    expect(await openOffline()).toBe(1);
  });

  it('a failed sweep does not stop the rest of the tick', async () => {
    // the sweep's own table gone for a moment: its statement fails, the tick still runs healing and delivery
    await sql`alter table sweep_state rename to sweep_state_away`.execute(t.db.db);
    try {
      const r = await t.app.services.alerts.tick();
      expect(r.swept).toMatchObject({ ran: false });
      expect(r.healed).not.toBeNull();
      expect(r.delivered).not.toBeNull();
    } finally {
      await sql`alter table sweep_state_away rename to sweep_state`.execute(t.db.db);
    }
  });
});
