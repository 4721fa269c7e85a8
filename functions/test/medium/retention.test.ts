import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * Retention with an injected clock: heartbeats are rolled up hour by hour, a day's partition goes
 * once it is past HEARTBEAT_RETENTION_DAYS and rolled up (never before), rollups go by month after
 * ROLLUP_RETENTION_DAYS, and the device charts read the rollups for long ranges.
 */
describe.each(DB_KINDS)('retention on %s', (kind) => {
  let t: TestApp;
  let device: EnrolledDevice;
  const start = new Date('2026-03-10T12:00:00Z');

  beforeAll(async () => {
    t = await createTestApp(kind);
    device = await t.enrollDevice();
  });
  afterAll(() => t.close());

  const beatAt = async (at: string, battery: number, extra: Record<string, unknown> = {}) => {
    t.clock.set(at);
    const res = await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(device),
      body: sampleHeartbeat(t.clock.now(), { battery: { level: battery, charging: battery >= 70 }, ...extra }),
    });
    expect(res.status).toBe(200);
  };
  const rollups = () =>
    t.db.db.selectFrom('heartbeat_rollups').selectAll().where('device_id', '=', device.deviceId).orderBy('hour').execute();
  const partitions = async (prefix: string) =>
    (
      await sql<{
        relname: string;
      }>`select relname from pg_class where relkind = 'r' and relname ~ ${`^${prefix}\\d+$`} order by relname`.execute(t.db.db)
    ).rows.map((r) => r.relname);
  const telemetry = async (query: string) => {
    const res = await t.request('GET', `/api/v1/admin/devices/${device.deviceId}/telemetry?${query}`, { token: await t.loginAs('viewer') });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return res.json;
  };

  it('rolls up each complete hour: min/avg/max, samples, majorities, the highest uptime', async () => {
    expect(t.clock.now()).toEqual(start);
    await beatAt('2026-03-10T12:05:00Z', 50, { uptimeSec: 100 });
    await beatAt('2026-03-10T12:20:00Z', 60, { uptimeSec: 1000, memory: { availBytes: 2 * 1048576 * 1000, totalBytes: 4_000_000_000 } });
    await beatAt('2026-03-10T12:40:00Z', 70, { uptimeSec: 2200, app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await beatAt('2026-03-10T13:30:00Z', 90);
    // 13:03: the 12 o'clock hour ended under the settle margin, so it waits
    t.clock.set('2026-03-10T13:03:00Z');
    await t.app.services.retention.rollUp();
    expect((await rollups()).map((r) => r.hour.toISOString())).toEqual([]);
    t.clock.set('2026-03-10T14:06:00Z');
    expect(await t.app.services.retention.rollUp(Number.POSITIVE_INFINITY, 0)).toBe(0); // no time budget left: nothing
    const hours = await t.app.services.retention.rollUp();
    expect(hours).toBeGreaterThanOrEqual(2);
    const rows = await rollups();
    expect(rows.map((r) => r.hour.toISOString())).toEqual(['2026-03-10T12:00:00.000Z', '2026-03-10T13:00:00.000Z']);
    expect(rows[0]).toMatchObject({
      samples: 3,
      battery_min: 50,
      battery_max: 70,
      battery_avg: 60,
      charging_samples: 1,
      app_up_samples: 2,
      uptime_max_sec: 2200,
      mem_avail_max_mb: 2000,
      mem_total_mb: Math.floor(4_000_000_000 / 1048576),
    });
    expect(rows[1]).toMatchObject({ samples: 1, battery_min: 90, battery_max: 90 });
    // run again: nothing new, nothing twice
    expect(await t.app.services.retention.rollUp()).toBe(0);
    expect(await rollups()).toHaveLength(2);
  });

  it('answers 7- and 30-day charts from the rollups plus the hours not rolled up yet, 24 hours raw', async () => {
    await beatAt('2026-03-10T14:10:00Z', 40);
    const week = await telemetry(`from=${new Date(t.clock.now().getTime() - 7 * DAY).toISOString()}`);
    expect(week.resolution).toBe('hour');
    expect(week.points.map((p: { receivedAt: string }) => p.receivedAt)).toEqual([
      '2026-03-10T12:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
      '2026-03-10T14:00:00.000Z', // not rolled up yet: summarised from the raw heartbeats
    ]);
    expect(week.points[0]).toMatchObject({
      batteryLevel: 60,
      batteryMin: 50,
      batteryMax: 70,
      samples: 3,
      charging: false,
      appRunning: true,
      uptimeSec: 2200,
    });
    expect(week.points[2]).toMatchObject({ batteryLevel: 40, samples: 1 });
    const month = await telemetry(`from=${new Date(t.clock.now().getTime() - 30 * DAY).toISOString()}`);
    expect(month.points).toHaveLength(3);
    const day = await telemetry('');
    expect(day.resolution).toBe('raw');
    expect(day.points).toHaveLength(5);
    expect(day.points[0]).not.toHaveProperty('samples');
    // the caller may choose
    expect((await telemetry('resolution=hour')).points).toHaveLength(3);
    expect((await telemetry(`resolution=raw&from=${new Date(t.clock.now().getTime() - 7 * DAY).toISOString()}`)).points).toHaveLength(5);
  });

  it('drops a day of heartbeats after HEARTBEAT_RETENTION_DAYS once it is rolled up, keeping its rollups for the charts', async () => {
    expect(await partitions('heartbeats_p')).toContain('heartbeats_p20260310');
    // 31 days later the device is still reporting; maintenance runs as every day
    await beatAt('2026-04-10T12:00:00Z', 80);
    const report = await t.app.maintenance();
    expect(report.heartbeatPartitionsDropped).toContain('heartbeats_p20260310');
    expect(report.heartbeatPartitionsDropped).not.toContain('heartbeats_p20260311');
    const left = await partitions('heartbeats_p');
    expect(left).not.toContain('heartbeats_p20260310');
    expect(left).toContain('heartbeats_p20260410');
    const old = await telemetry('from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z');
    expect(old.resolution).toBe('hour'); // older than the raw retention: from the rollups
    expect(old.points.map((p: { batteryLevel: number }) => p.batteryLevel)).toEqual([60, 90, 40]);
    expect((await telemetry('from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&resolution=raw')).points).toEqual([]);
    // the raw heartbeats of the last day are all there
    expect((await telemetry('')).points).toHaveLength(1);
  });

  it('keeps a partition past retention while its hours are not rolled up', async () => {
    if (kind === 'pglite') return; // needs a second session to hold the rollup job's lock
    const holder = new pg.Client({ connectionString: t.db.url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock(727300003)'); // the rollup job is busy elsewhere
      await beatAt('2026-04-12T12:00:00Z', 80); // rollups now lag two days behind
      await sql`update rollup_state set rolled_up_to = '2026-03-11T06:00:00Z'`.execute(t.db.db);
      const report = await t.app.maintenance();
      expect(report.hoursRolledUp).toBe(0);
      expect(report.heartbeatPartitionsDropped).toEqual([]);
      expect(await partitions('heartbeats_p')).toContain('heartbeats_p20260311');
      expect(t.logs.lines.some((l) => l.message === 'heartbeat partition past retention is not rolled up yet; kept')).toBe(true);
      await holder.query('select pg_advisory_unlock(727300003)');
      const caught = await t.app.maintenance();
      expect(caught.hoursRolledUp).toBeGreaterThan(24);
      expect(caught.heartbeatPartitionsDropped).toContain('heartbeats_p20260311');
    } finally {
      await holder.end();
    }
  });

  it('drops rollups by whole months after ROLLUP_RETENTION_DAYS', async () => {
    t.clock.set('2027-05-10T12:00:00Z'); // March 2026 ended 404 days ago
    // the job is up to date (a real deployment rolled up every hour in between)
    await sql`update rollup_state set rolled_up_to = '2027-05-10T11:00:00Z'`.execute(t.db.db);
    expect(await partitions('heartbeat_rollups_p')).toContain('heartbeat_rollups_p202603');
    const report = await t.app.maintenance();
    expect(report.rollupPartitionsDropped).toEqual(['heartbeat_rollups_p202603']);
    expect(await partitions('heartbeat_rollups_p')).toContain('heartbeat_rollups_p202604');
  });

  it('prunes finished commands, sent notifications with their notices, downloads and events by their own settings', async () => {
    const now = t.clock.now().getTime();
    const ago = (days: number) => new Date(now - days * DAY);
    const cmd = (status: string, createdDaysAgo: number, completedDaysAgo: number | null) => ({
      id: crypto.randomUUID(),
      batch_id: crypto.randomUUID(),
      device_id: device.deviceId,
      type: 'PING' as const,
      status: status as 'succeeded',
      created_at: ago(createdDaysAgo),
      created_by_type: 'admin' as const,
      not_before: ago(createdDaysAgo),
      expires_at: new Date(ago(createdDaysAgo).getTime() + DAY),
      completed_at: completedDaysAgo === null ? null : ago(completedDaysAgo),
    });
    const commands = [
      cmd('succeeded', 100, 99),
      cmd('expired', 95, 94),
      cmd('failed', 89, 89),
      cmd('queued', 200, null),
      cmd('succeeded', 91, 85),
    ];
    await t.db.db.insertInto('commands').values(commands).execute();
    await t.db.db
      .insertInto('command_dispatches')
      .values({ command_id: commands[0]!.id, at: ago(100), channel: 'fcm', attempt: 1, outcome: 'sent' })
      .execute();

    const alert = await t.db.db
      .insertInto('alerts')
      .values({
        device_id: device.deviceId,
        kind: 'offline',
        status: 'resolved',
        condition_since: ago(120),
        opened_at: ago(120),
        resolved_at: ago(119),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const note = (status: 'sent' | 'dropped' | 'pending', days: number) =>
      t.db.db
        .insertInto('notifications')
        .values({
          channel: 'discord',
          type: 'alert',
          created_at: ago(days),
          status,
          next_attempt_at: ago(days),
          payload: JSON.stringify({}),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    const oldSent = await note('sent', 120);
    await note('dropped', 100);
    await note('sent', 10);
    await note('pending', 120);
    await t.db.db
      .insertInto('alert_notices')
      .values({ alert_id: alert.id, channel: 'discord', type: 'opened', created_at: ago(120), notification_id: oldSent.id })
      .execute();

    const release = await t.db.db
      .insertInto('apk_releases')
      .values({ version_code: 7, version_name: '1.0.7', url: 'https://example.com/a.apk', sha256: 'a'.repeat(64), created_at: ago(500) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db.db
      .insertInto('apk_downloads')
      .values([
        { release_id: release.id, at: ago(400) },
        { release_id: release.id, at: ago(10) },
      ])
      .execute();
    await t.db.db
      .insertInto('device_events')
      .values([
        { device_id: device.deviceId, received_at: ago(40), occurred_at: ago(40), type: 'old.event' },
        { device_id: device.deviceId, received_at: ago(1), occurred_at: ago(1), type: 'new.event' },
      ])
      .execute();

    const report = await t.app.maintenance();
    expect(report).toMatchObject({ commandsPruned: 2, notificationsPruned: 2, downloadsPruned: 1 });
    expect(report.deviceEventsPruned).toBeGreaterThanOrEqual(1);
    const left = await t.db.db
      .selectFrom('commands')
      .select('id')
      .where(
        'id',
        'in',
        commands.map((c) => c.id),
      )
      .execute();
    expect(left.map((c) => c.id).sort()).toEqual([commands[2]!.id, commands[3]!.id, commands[4]!.id].sort());
    expect(await t.db.db.selectFrom('command_dispatches').selectAll().where('command_id', '=', commands[0]!.id).execute()).toEqual([]);
    expect((await t.db.db.selectFrom('notifications').select('status').execute()).map((n) => n.status).sort()).toEqual(['pending', 'sent']);
    // the pruned message's notice went with it, so it is not told again
    expect(await t.db.db.selectFrom('alert_notices').selectAll().where('alert_id', '=', alert.id).execute()).toEqual([]);
    expect(
      await t.db.db
        .selectFrom('device_events')
        .select('type')
        .where('device_id', '=', device.deviceId)
        .where('type', 'like', '%.event')
        .execute(),
    ).toEqual([{ type: 'new.event' }]);
  });
});
