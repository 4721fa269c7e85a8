import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('sessions and heartbeats on %s', (kind) => {
  let t: TestApp;
  let device: EnrolledDevice;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp(kind);
    device = await t.enrollDevice();
    token = await t.deviceToken(device);
  });
  afterAll(() => t.close());

  const beat = (body: unknown, bearer = token) => t.request('POST', '/api/v1/heartbeat', { token: bearer, body });
  const partitionOf = async (receivedAt: Date) => {
    const { rows } = await sql<{ part: string }>`
      select tableoid::regclass::text as part from heartbeats where device_id = ${device.deviceId} and received_at = ${receivedAt}`.execute(
      t.db.db,
    );
    return rows.map((r) => r.part);
  };

  it('opens a session with the device secret and refuses a wrong one', async () => {
    const ok = await t.request('POST', '/api/v1/device/session', {
      body: { deviceId: device.deviceId, deviceSecret: device.deviceSecret },
    });
    expect(ok.status).toBe(200);
    expect(new Date(ok.json.expiresAt).getTime() - t.clock.now().getTime()).toBe(6 * 3600_000);
    const wrong = await t.request('POST', '/api/v1/device/session', { body: { deviceId: device.deviceId, deviceSecret: 'nope' } });
    expect([wrong.status, wrong.json.error.code]).toEqual([401, 'invalid_credentials']);
    const unknown = await t.request('POST', '/api/v1/device/session', {
      body: { deviceId: '00000000-0000-4000-8000-000000000000', deviceSecret: device.deviceSecret },
    });
    expect(unknown.status).toBe(401);
  });

  it('stores the heartbeat row and the latest state, and answers with the interval and no commands', async () => {
    const sentAt = new Date(t.clock.now().getTime() - 2000);
    const res = await beat(
      sampleHeartbeat(sentAt, { fcmToken: 'fcm-new', events: [{ type: 'app.crash', at: sentAt.toISOString(), data: { code: 7 } }] }),
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      protocolVersion: 2,
      serverTime: t.clock.now().toISOString(),
      nextHeartbeatSec: 300,
      commands: [],
      cancelled: [],
      policy: null,
    });
    const row = await t.db.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      last_seen_at: t.clock.now(),
      state_sent_at: sentAt,
      battery_level: 80,
      battery_charging: false,
      battery_temp_c: 31.5,
      mem_avail_bytes: 1_000_000_000,
      storage_total_bytes: 64_000_000_000,
      network_type: 'wifi',
      network_rssi: -55,
      app_package: 'com.example.kiosk',
      app_version_code: 230,
      app_last_frame_age_ms: 16,
      uptime_sec: 3600,
      fcm_token: 'fcm-new',
      fcm_token_updated_at: t.clock.now(),
    });
    const hb = await t.db.db.selectFrom('heartbeats').selectAll().where('device_id', '=', device.deviceId).execute();
    expect(hb).toHaveLength(1);
    expect(hb[0]).toMatchObject({ battery_level: 80, battery_temp_dc: 315, sent_at: sentAt, received_at: t.clock.now() });
    const events = await t.db.db.selectFrom('device_events').selectAll().where('device_id', '=', device.deviceId).execute();
    expect(events).toMatchObject([{ type: 'app.crash', data: { code: 7 } }]);
  });

  it("stores the agent's versionCode (v2) and shows it; an agent that does not send it leaves it unknown", async () => {
    const code = async () =>
      (await t.db.db.selectFrom('devices').select('agent_version_code').where('id', '=', device.deviceId).executeTakeFirstOrThrow())
        .agent_version_code;
    t.clock.advance(1000);
    expect((await beat(sampleHeartbeat(t.clock.now(), { agentVersionCode: 104 }))).status).toBe(200);
    expect(await code()).toBe(104);
    const admin = await t.loginAs('admin');
    const view = await t.request('GET', `/api/v1/admin/devices/${device.deviceId}`, { token: admin });
    expect(view.json).toMatchObject({ agentVersion: '1.0.0', agentVersionCode: 104 });
    // an older, buffered heartbeat does not move it back; a newer one without it (an older agent) clears it
    expect((await beat(sampleHeartbeat(new Date(t.clock.now().getTime() - 60_000), { agentVersionCode: 99 }))).status).toBe(200);
    t.clock.advance(1000);
    expect((await beat(sampleHeartbeat(t.clock.now()))).status).toBe(200);
    expect(await code()).toBeNull();
    // enrollment may carry it too
    const other = await t.enrollDevice({ agentVersionCode: 7 });
    const row = await t.db.db.selectFrom('devices').select('agent_version_code').where('id', '=', other.deviceId).executeTakeFirstOrThrow();
    expect(row.agent_version_code).toBe(7);
  });

  it('writes each heartbeat into the partition of its UTC day, across midnight', async () => {
    const beforeMidnight = new Date('2026-03-10T23:59:59.999Z');
    const atMidnight = new Date('2026-03-11T00:00:00.000Z');
    t.clock.set(beforeMidnight);
    const session = await t.deviceToken(device);
    expect((await beat(sampleHeartbeat(beforeMidnight), session)).status).toBe(200);
    t.clock.set(atMidnight);
    expect((await beat(sampleHeartbeat(atMidnight), session)).status).toBe(200);
    expect(await partitionOf(beforeMidnight)).toEqual(['heartbeats_p20260310']);
    expect(await partitionOf(atMidnight)).toEqual(['heartbeats_p20260311']);
  });

  it('creates a missing partition on demand when maintenance has not run', async () => {
    const farAhead = new Date('2026-06-01T08:00:00Z');
    t.clock.set(farAhead);
    const fresh = await t.deviceToken(device);
    expect((await beat(sampleHeartbeat(farAhead), fresh)).status).toBe(200);
    expect(await partitionOf(farAhead)).toEqual(['heartbeats_p20260601']);
  });

  it('keeps the newest state when an older, buffered heartbeat arrives late', async () => {
    t.clock.set('2026-06-01T09:00:00Z');
    const fresh = await t.deviceToken(device);
    await beat(sampleHeartbeat(new Date('2026-06-01T08:59:00Z'), { battery: { level: 50, charging: true } }), fresh);
    t.clock.advance(5000);
    await beat(sampleHeartbeat(new Date('2026-06-01T08:30:00Z'), { battery: { level: 90, charging: false } }), fresh);
    const row = await t.db.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect([row.battery_level, row.battery_charging, row.last_seen_at]).toEqual([50, true, t.clock.now()]);
    const stored = await t.db.db
      .selectFrom('heartbeats')
      .select('battery_level')
      .where('device_id', '=', device.deviceId)
      .where('received_at', '>=', new Date('2026-06-01T09:00:00Z'))
      .orderBy('received_at')
      .execute();
    expect(stored.map((s) => s.battery_level)).toEqual([50, 90]);
  });

  it('is atomic: when the heartbeat row cannot be written, the latest state is not changed either', async () => {
    const before = await t.db.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    await sql`create function fail_hb() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$`.execute(t.db.db);
    await sql`create trigger fail_hb before insert on heartbeats for each row execute function fail_hb()`.execute(t.db.db);
    try {
      t.clock.advance(60_000);
      const res = await beat(sampleHeartbeat(t.clock.now(), { battery: { level: 3, charging: false } }), await t.deviceToken(device));
      expect(res.status).toBe(500);
      expect(res.json.error).toEqual({ code: 'internal', message: 'internal error' });
    } finally {
      await sql`drop trigger fail_hb on heartbeats`.execute(t.db.db);
      await sql`drop function fail_hb()`.execute(t.db.db);
    }
    const after = await t.db.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
  });

  it('is atomic with events: a failed event insert leaves no heartbeat and no state change', async () => {
    const count = async () =>
      Number(
        (
          await t.db.db
            .selectFrom('heartbeats')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const state = await t.db.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    await sql`create function fail_ev() returns trigger language plpgsql as $$ begin raise exception 'no'; end $$`.execute(t.db.db);
    await sql`create trigger fail_ev before insert on device_events for each row execute function fail_ev()`.execute(t.db.db);
    try {
      t.clock.advance(60_000);
      const res = await beat(
        sampleHeartbeat(t.clock.now(), { events: [{ type: 'boot', at: t.clock.now().toISOString() }] }),
        await t.deviceToken(device),
      );
      expect(res.status).toBe(500);
    } finally {
      await sql`drop trigger fail_ev on device_events`.execute(t.db.db);
      await sql`drop function fail_ev()`.execute(t.db.db);
    }
    expect(await count()).toBe(before);
    expect(await t.db.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow()).toEqual(state);
  });

  it('rejects invalid heartbeats with 400 and writes nothing', async () => {
    const fresh = await t.deviceToken(device);
    const now = t.clock.now();
    const bad = [
      { ...sampleHeartbeat(now), battery: { level: 101, charging: false } },
      { ...sampleHeartbeat(now), memory: { availBytes: 5, totalBytes: 4 } },
      { ...sampleHeartbeat(now), sentAt: 'yesterday' },
      { ...sampleHeartbeat(now), app: { package: "x'; drop table devices; --", running: true, foreground: true } },
      { ...sampleHeartbeat(now), agentVersion: 'a\u0000b' },
      { ...sampleHeartbeat(now), uptimeSec: 2 ** 63 },
      { ...sampleHeartbeat(now), agentVersionCode: -1 },
      { ...sampleHeartbeat(now), agentVersionCode: 1.5 },
      { ...sampleHeartbeat(now), agentVersionCode: '3' },
    ];
    const before = await t.db.db
      .selectFrom('heartbeats')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    for (const body of bad) {
      const res = await beat(body, fresh);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('invalid_request');
    }
    const after = await t.db.db
      .selectFrom('heartbeats')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toEqual(before.n);
  });

  it('refuses a heartbeat from a device that no longer exists, and an expired token', async () => {
    const other = await t.enrollDevice();
    const otherToken = await t.deviceToken(other);
    await pruneAuditForDevice(t, other.deviceId); // the audit log is append-only: only the retention path deletes
    await t.db.db.deleteFrom('devices').where('id', '=', other.deviceId).execute();
    const gone = await beat(sampleHeartbeat(t.clock.now()), otherToken);
    expect([gone.status, gone.json.error.code]).toEqual([401, 'unknown_device']);
    const fresh = await t.deviceToken(device);
    t.clock.advance(6 * 3600_000 + 1000);
    expect((await beat(sampleHeartbeat(t.clock.now()), fresh)).status).toBe(401);
  });
});

async function pruneAuditForDevice(t: TestApp, deviceId: string): Promise<void> {
  await t.db.db.transaction().execute(async (trx) => {
    await sql`select set_config('mdm.audit_retention', 'on', true)`.execute(trx);
    await trx.deleteFrom('audit_log').where('device_id', '=', deviceId).execute();
  });
}
