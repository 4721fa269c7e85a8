import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, WebhookReceiver } from '../helpers/receivers.js';

/**
 * Alert hours end to end: enrolled devices beat through the real request handling, the real minute
 * tick sweeps (one SQL statement on PostgreSQL and PGlite) and delivers to a Discord-shaped webhook on
 * loopback. The clock is the app's injected clock: 2026-03-10 is a Tuesday, Berlin is UTC+1 then, so
 * the store's 09:00-21:00 is 08:00-20:00 UTC. Offline after 12 minutes (the default).
 */
const STORE = [[9 * 60, 21 * 60]] as [number, number][];
const EVERY_DAY = { mon: STORE, tue: STORE, wed: STORE, thu: STORE, fri: STORE, sat: STORE, sun: STORE };

describe.each(DB_KINDS)('alert hours on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let discord: WebhookReceiver;

  beforeAll(async () => {
    discord = await new WebhookReceiver().start();
  });
  afterAll(() => discord.stop());

  beforeEach(async () => {
    t = await createTestApp(kind, { ...LOOPBACK_CHANNELS });
    t.clock.set('2026-03-10T19:40:00Z'); // 20:40 in Berlin
    admin = await t.loginAs('admin');
    discord.received.length = 0;
    const res = await t.request('PUT', '/api/v1/admin/settings/alerts', {
      token: admin,
      body: { channels: { discord: { enabled: true, webhookUrl: discord.url } } },
    });
    expect(res.status).toBe(200);
  });
  afterEach(() => t.close());

  const beat = async (d: EnrolledDevice, overrides: Record<string, unknown> = {}) => {
    const res = await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(d),
      body: sampleHeartbeat(t.clock.now(), overrides),
    });
    expect(res.status).toBe(200);
  };
  /** Enrolls a device into a group (created on first use); returns it and the group's id. */
  const enroll = async (serial: string, group: string) => {
    const d = await t.enrollDevice({ serial });
    const res = await t.request('PATCH', `/api/v1/admin/devices/${d.deviceId}`, { token: admin, body: { group } });
    expect(res.status).toBe(200);
    return { d, groupId: res.json.group.id as string };
  };
  /** Moves the clock minute by minute, each device of `beating` sending a heartbeat and the tick running each minute. */
  const run = async (minutes: number, beating: EnrolledDevice[] = []) => {
    for (let m = 0; m < minutes; m++) {
      t.clock.advance(60_000);
      for (const d of beating) await beat(d);
      await t.app.tick();
    }
  };
  const alerts = async (q = '') => (await t.request('GET', `/api/v1/admin/alerts?limit=500${q}`, { token: admin })).json.items;
  /** The title of each message the webhook received. */
  const titles = (): string[] => discord.received.map((r) => r.body.embeds[0].title);

  it('a store that switches off at 21:05 raises no offline alert overnight, nor a burst of resolutions at opening; a device still off after opening + 12 min does', async () => {
    const store = await Promise.all(['TILL-1', 'TILL-2', 'TILL-3'].map((s) => enroll(s, 'Store Berlin')));
    const { d: lobby } = await enroll('LOBBY-1', 'Head office'); // no hours: the control
    const groupId = store[0]!.groupId;
    const set = await t.request('PUT', `/api/v1/admin/groups/${groupId}/alert-hours`, {
      token: admin,
      body: { timeZone: 'Europe/Berlin', weekly: EVERY_DAY },
    });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ quietNow: false, hours: { timeZone: 'Europe/Berlin' } });

    const devices = [...store.map((s) => s.d), lobby];
    await run(25, devices); // to 21:05 local: everything beats
    expect(t.clock.now().toISOString()).toBe('2026-03-10T20:05:00.000Z');
    expect((await t.request('GET', `/api/v1/admin/groups/${groupId}/alert-hours`, { token: admin })).json.quietNow).toBe(true);

    await run(20); // 21:25: the control device is offline and alerted, the store is not
    expect((await alerts()).map((a: { device: { id: string } }) => a.device.id)).toEqual([lobby.deviceId]);
    expect(titles()).toHaveLength(1);

    // overnight, in 10-minute steps (the sweep looks back over gaps)
    for (let i = 0; i < 70; i++) {
      t.clock.advance(10 * 60_000);
      await t.app.tick();
    }
    expect(t.clock.now().toISOString()).toBe('2026-03-11T08:05:00.000Z'); // 09:05 local: open
    admin = await t.loginAs('admin'); // the evening's session has expired
    expect(await alerts()).toHaveLength(1);

    // two tills come back; TILL-3 stays off. Its offline clock started at 09:00: no alert before 09:12
    const [till1, till2, till3] = store.map((s) => s.d);
    await run(6, [till1!, till2!]); // 09:11
    expect(await alerts()).toHaveLength(1);
    await run(4, [till1!, till2!]); // 09:15
    const open = await alerts('&status=open');
    expect(open.map((a: { device: { id: string } }) => a.device.id).sort()).toEqual([lobby.deviceId, till3!.deviceId].sort());
    const tillAlert = open.find((a: { device: { id: string } }) => a.device.id === till3!.deviceId);
    expect(tillAlert.conditionSince).toBe('2026-03-11T08:00:00.000Z');

    // what was delivered: the control's opening and TILL-3's, no resolution at all
    expect(await alerts('&status=resolved')).toEqual([]);
    expect(titles()).toHaveLength(2);
    expect(titles().some((x: string) => /^Resolved/.test(x))).toBe(false);
    expect(titles()[1]).toContain('TILL-3');
  });

  it('outside the hours low battery still alerts, the app being down does not; an alert open at closing stays open', async () => {
    const { d: kiosk, groupId } = await enroll('KIOSK-9', 'Night shift');
    const { d: sign } = await enroll('SIGN-9', 'Night shift');
    await run(1, [kiosk, sign]);
    await beat(sign, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await run(3); // 19:44: the sign's app_down alert opened while the group was expected
    expect((await alerts('&status=open')).map((a: { kind: string }) => a.kind)).toEqual(['app_down']);
    // closed every day from now on: the group is quiet
    const set = await t.request('PUT', `/api/v1/admin/groups/${groupId}/alert-hours`, {
      token: admin,
      body: { timeZone: 'UTC', weekly: {} },
    });
    expect(set.json.quietNow).toBe(true);
    for (let m = 0; m < 5; m++) {
      t.clock.advance(60_000);
      await beat(kiosk, {
        battery: { level: 5, charging: false },
        app: { package: 'com.example.kiosk', running: false, foreground: false },
      });
      await beat(sign, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
      await t.app.tick();
    }
    const open = (await alerts('&status=open')) as { kind: string; device: { id: string } }[];
    expect(open.map((a) => `${a.device.id === kiosk.deviceId ? 'kiosk' : 'sign'}:${a.kind}`).sort()).toEqual([
      'kiosk:low_battery',
      'sign:app_down',
    ]);
  });

  it('a maintenance window keeps offline and app alerts down; the offline clock starts again at its end', async () => {
    const { d: sign, groupId } = await enroll('SIGN-1', 'Signage');
    const { d: kiosk } = await enroll('KIOSK-1', 'Signage');
    const bad = await t.request('POST', `/api/v1/admin/groups/${groupId}/maintenance-windows`, {
      token: admin,
      body: { startsAt: '2026-03-10T21:00:00Z', endsAt: '2026-03-10T20:00:00Z' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('window_end_before_start');
    const win = await t.request('POST', `/api/v1/admin/groups/${groupId}/maintenance-windows`, {
      token: admin,
      body: { startsAt: '2026-03-10T19:45:00Z', endsAt: '2026-03-10T21:00:00Z', reason: 'network work' },
    });
    expect(win.status).toBe(201);

    await run(5, [sign, kiosk]); // 19:45: the window opens
    for (let m = 0; m < 60; m++) {
      t.clock.advance(60_000);
      await beat(kiosk, { app: { package: 'com.example.kiosk', running: false, foreground: false } }); // the app is down
      await t.app.tick(); // SIGN-1 is off
    }
    expect(await alerts()).toEqual([]);
    // 20:45 -> 21:13: the window ended at 21:00, the kiosk's app is still down, the sign still off
    for (let m = 0; m < 28; m++) {
      t.clock.advance(60_000);
      await beat(kiosk, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
      await t.app.tick();
    }
    const open = await alerts('&status=open');
    expect(open.map((a: { kind: string }) => a.kind).sort()).toEqual(['app_down', 'offline']);
    expect(open.find((a: { kind: string }) => a.kind === 'offline').conditionSince).toBe('2026-03-10T21:00:00.000Z');
    // the app alert held its 2 minutes from the window's end
    expect(open.find((a: { kind: string }) => a.kind === 'app_down').conditionSince).toBe('2026-03-10T21:00:00.000Z');
  });

  it('a snoozed device raises nothing until the snooze ends; then its offline clock starts', async () => {
    const { d: sign } = await enroll('SIGN-2', 'Signage');
    await run(1, [sign]);
    const viewer = await t.loginAs('viewer');
    const refused = await t.request('PUT', `/api/v1/admin/devices/${sign.deviceId}/snooze`, {
      token: viewer,
      body: { until: '2026-03-10T21:00:00Z' },
    });
    expect(refused.status).toBe(403);
    const past = await t.request('PUT', `/api/v1/admin/devices/${sign.deviceId}/snooze`, {
      token: admin,
      body: { until: '2026-03-10T19:00:00Z' },
    });
    expect(past.json.error.code).toBe('snooze_in_past');
    const snoozed = await t.request('PUT', `/api/v1/admin/devices/${sign.deviceId}/snooze`, {
      token: admin,
      body: { until: '2026-03-10T21:00:00Z', reason: 'being repainted' },
    });
    expect(snoozed.status).toBe(200);
    expect(snoozed.json).toMatchObject({ until: '2026-03-10T21:00:00.000Z', reason: 'being repainted' });

    // low battery (raised in any hours) is snoozed too
    await run(10, []);
    await beat(sign, { battery: { level: 5, charging: false } });
    await run(60); // 20:51, offline since 19:51 and snoozed
    expect(await alerts()).toEqual([]);
    await run(21); // 21:12: 12 minutes after the snooze ended
    expect(await alerts()).toEqual([]);
    await run(1);
    const [offline] = await alerts();
    expect(offline).toMatchObject({ kind: 'offline', conditionSince: '2026-03-10T21:00:00.000Z' });

    // snooze again and end it by hand: the clock starts at the un-snooze
    await beat(sign);
    await run(1);
    await t.request('PUT', `/api/v1/admin/devices/${sign.deviceId}/snooze`, { token: admin, body: { until: '2026-03-11T09:00:00Z' } });
    await run(30);
    const ended = await t.request('DELETE', `/api/v1/admin/devices/${sign.deviceId}/snooze`, { token: admin });
    expect(ended.json.until).toBeNull();
    await run(13);
    expect((await alerts('&status=open')).map((a: { conditionSince: string }) => a.conditionSince)).toEqual(['2026-03-10T21:44:00.000Z']);
    const audit = await t.db.db.selectFrom('audit_log').select('action').where('device_id', '=', sign.deviceId).orderBy('id').execute();
    expect(audit.map((a) => a.action).filter((a) => a.includes('snooze'))).toEqual([
      'snoozed_device',
      'snoozed_device',
      'unsnoozed_device',
    ]);
  });
});
