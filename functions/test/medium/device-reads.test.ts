import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('admin device reads on %s', (kind) => {
  let t: TestApp;
  let viewer: string;
  const devices: EnrolledDevice[] = [];
  const start = new Date('2026-03-10T12:00:00Z');

  beforeAll(async () => {
    t = await createTestApp(kind);
    // Seven devices, each seen one minute after the previous; the first three go quiet for an hour.
    for (let i = 0; i < 7; i++) {
      t.clock.set(new Date(start.getTime() + i * 60_000));
      devices.push(await t.enrollDevice({ model: i % 2 ? 'Tab A8' : 'Pixel 7', serial: `SER-${i}` }));
    }
    t.clock.set(new Date(start.getTime() + 75 * 60_000));
    for (const d of devices.slice(3)) {
      t.clock.advance(1000);
      await t.request('POST', '/api/v1/heartbeat', { token: await t.deviceToken(d), body: sampleHeartbeat(t.clock.now()) });
    }
    viewer = await t.loginAs('viewer');
  });
  afterAll(() => t.close());

  const list = (query: string) => t.request('GET', `/api/v1/admin/devices${query}`, { token: viewer });

  it('lists most recently seen first, with status from the offline threshold', async () => {
    const res = await list('');
    expect(res.status).toBe(200);
    expect(res.json.items.map((d: { serial: string }) => d.serial)).toEqual([
      'SER-6',
      'SER-5',
      'SER-4',
      'SER-3',
      'SER-2',
      'SER-1',
      'SER-0',
    ]);
    expect(res.json.items.map((d: { status: string }) => d.status)).toEqual([
      'online',
      'online',
      'online',
      'online',
      'offline',
      'offline',
      'offline',
    ]);
    expect(res.json.items[0]).toMatchObject({ displayName: 'Pixel 7 SER-6', battery: { level: 80 }, app: { running: true } });
    expect(res.json.items[6]).toMatchObject({ battery: null, app: null, lastSeenAt: '2026-03-10T12:00:00.000Z' });
  });

  it('filters by status and text, sorts ascending, and pages with a cursor without gaps or repeats', async () => {
    expect((await list('?status=offline')).json.items.map((d: { serial: string }) => d.serial)).toEqual(['SER-2', 'SER-1', 'SER-0']);
    expect((await list('?status=online&q=tab')).json.items.map((d: { serial: string }) => d.serial)).toEqual(['SER-5', 'SER-3']);
    expect((await list(`?q=${devices[4]!.deviceId}`)).json.items).toHaveLength(1);
    expect((await list('?q=100%25')).json.items).toHaveLength(0);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`?sort=lastSeen&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.json.items.map((d: { serial: string }) => d.serial));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['SER-0', 'SER-1', 'SER-2', 'SER-3', 'SER-4', 'SER-5', 'SER-6']);
  });

  it('rejects bad filters with 400', async () => {
    for (const q of ['?status=sleeping', '?limit=0', '?limit=501', '?sort=name', '?cursor=%%%', '?groupId=12']) {
      expect((await list(q)).status, q).toBe(400);
    }
  });

  it('returns one device with identity and latest state, 404 for an unknown one and 400 for a bad id', async () => {
    const d = devices[5]!;
    const res = await t.request('GET', `/api/v1/admin/devices/${d.deviceId}`, { token: viewer });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: d.deviceId,
      model: 'Tab A8',
      manufacturer: 'Google',
      sdkInt: 34,
      status: 'online',
      storage: { freeBytes: 10_000_000_000, totalBytes: 64_000_000_000 },
      network: { type: 'wifi', rssi: -55, ip: '10.0.0.7' },
      app: { package: 'com.example.kiosk', versionName: '2.3.0', versionCode: 230, lastFrameAgeMs: 16 },
    });
    expect((await t.request('GET', '/api/v1/admin/devices/7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6', { token: viewer })).status).toBe(404);
    expect((await t.request('GET', "/api/v1/admin/devices/1'%20or%20'1'='1", { token: viewer })).status).toBe(400);
  });

  it('returns telemetry for a time range, oldest first, and says when it was truncated', async () => {
    const d = devices[6]!;
    const session = await t.deviceToken(d);
    for (let i = 0; i < 4; i++) {
      t.clock.advance(300_000);
      await t.request('POST', '/api/v1/heartbeat', {
        token: session,
        body: sampleHeartbeat(t.clock.now(), { battery: { level: 70 - i, charging: false } }),
      });
    }
    const all = await t.request('GET', `/api/v1/admin/devices/${d.deviceId}/telemetry`, { token: viewer });
    expect(all.status).toBe(200);
    expect(all.json.points.map((p: { batteryLevel: number }) => p.batteryLevel)).toEqual([80, 70, 69, 68, 67]);
    expect(all.json.truncated).toBe(false);
    const from = new Date(t.clock.now().getTime() - 700_000).toISOString();
    const some = await t.request('GET', `/api/v1/admin/devices/${d.deviceId}/telemetry?from=${from}&limit=1`, { token: viewer });
    expect(some.json.points.map((p: { batteryLevel: number }) => p.batteryLevel)).toEqual([69]);
    expect(some.json.truncated).toBe(true);
    const backwards = `?from=${t.clock.now().toISOString()}&to=${from}`;
    expect((await t.request('GET', `/api/v1/admin/devices/${d.deviceId}/telemetry${backwards}`, { token: viewer })).status).toBe(400);
  });
});
