import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceDoc, FleetSummary, Mirror } from '../../src/ports/mirror.js';
import { SCENARIO_DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/** Records what would reach Firestore or the event stream. */
class RecordingMirror implements Mirror {
  readonly devices: DeviceDoc[] = [];
  readonly summaries: FleetSummary[] = [];
  readonly removed: string[] = [];
  async writeDevices(docs: DeviceDoc[]) {
    this.devices.push(...docs);
  }
  async writeSummary(summary: FleetSummary) {
    this.summaries.push(summary);
  }
  async removeDevices(ids: string[]) {
    this.removed.push(...ids);
  }
}

describe.each(SCENARIO_DB_KINDS)('the live mirror on %s', (kind) => {
  let t: TestApp;
  let mirror: RecordingMirror;
  let device: EnrolledDevice;

  beforeEach(async () => {
    mirror = new RecordingMirror();
    t = await createTestApp(kind, {}, { mirror });
    device = await t.enrollDevice({ serial: 'MIRROR-1' });
  });
  afterEach(() => t.close());

  const beat = async (overrides: Record<string, unknown> = {}) => {
    const res = await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(device),
      body: sampleHeartbeat(t.clock.now(), overrides),
    });
    expect(res.status).toBe(200);
  };
  const writes = () => mirror.devices.filter((d) => d.id === device.deviceId);
  const minutes = (n: number) => t.clock.advance(n * 60_000);

  it('shows a new device, then writes a document only when something visible changes', async () => {
    expect(writes()).toMatchObject([{ name: 'Pixel 7 MIRROR-1', status: 'online', battery: null, app: 'unknown', openAlerts: [] }]);
    await beat({ battery: { level: 82, charging: false } });
    expect(writes().at(-1)).toMatchObject({ battery: 80, charging: false, app: 'running' });
    const before = writes().length;
    for (const level of [81, 80, 83, 84]) {
      minutes(5);
      await beat({ battery: { level, charging: false } }); // the same 5% step, nothing else changed
    }
    expect(writes()).toHaveLength(before);
    minutes(5);
    await beat({ battery: { level: 79, charging: false } });
    expect(writes().at(-1)!.battery).toBe(75);
    minutes(5);
    await beat({ battery: { level: 79, charging: true } });
    expect(writes().at(-1)!.charging).toBe(true);
    minutes(5);
    await beat({
      battery: { level: 79, charging: true },
      app: { package: 'com.example.kiosk', running: true, foreground: true, lastFrameAgeMs: 45_000 },
    });
    expect(writes().at(-1)!.app).toBe('frozen');
    expect(writes()).toHaveLength(before + 3);
  });

  it('carries the app, agent and Android versions, and writes the document when a heartbeat changes a version', async () => {
    expect(writes()[0]).toMatchObject({ androidVersion: '14', agentVersion: '1.0.0', appVersionName: null, appVersionCode: null });
    await beat();
    expect(writes().at(-1)).toMatchObject({ appVersionName: '2.3.0', appVersionCode: 230, agentVersion: '1.0.0', androidVersion: '14' });
    const before = writes().length;
    minutes(5);
    await beat(); // nothing visible changed
    expect(writes()).toHaveLength(before);
    minutes(5);
    await beat({ app: { package: 'com.example.kiosk', running: true, foreground: true, versionName: '2.4.0', versionCode: 240 } });
    expect(writes().at(-1)).toMatchObject({ appVersionName: '2.4.0', appVersionCode: 240 });
    minutes(5);
    await beat({
      app: { package: 'com.example.kiosk', running: true, foreground: true, versionName: '2.4.0', versionCode: 240 },
      agentVersion: '1.1.0',
    });
    expect(writes().at(-1)).toMatchObject({ agentVersion: '1.1.0' });
    expect(writes()).toHaveLength(before + 2);
    // the console's snapshot is the same document
    const fleet = await t.request('GET', '/api/v1/admin/fleet', { token: await t.loginAs('viewer') });
    expect(fleet.json.items[0]).toMatchObject({
      appVersionName: '2.4.0',
      appVersionCode: 240,
      agentVersion: '1.1.0',
      androidVersion: '14',
    });
  });

  it('refreshes a steady device once an hour: under 0.1 writes per heartbeat at a 5-minute interval', async () => {
    await beat();
    const start = writes().length;
    for (let i = 0; i < 36; i++) {
      minutes(5);
      await beat();
    }
    // three hours: rewritten at 65 and 130 minutes (an hour old, at the next heartbeat)
    const steady = writes().length - start;
    expect(steady).toBe(2);
    expect(steady / 36).toBeLessThanOrEqual(0.1);
  });

  it('writes a device that goes offline once, not on each of the next sweeps', async () => {
    await beat();
    const online = writes().length;
    // a sweep a minute, 10 of them after the device crossed the offline threshold
    const sweeps = Math.ceil(t.config.offlineAfterSec / 60) + 10;
    for (let i = 0; i < sweeps; i++) {
      minutes(1);
      await t.app.tick();
    }
    expect(
      writes()
        .slice(online)
        .map((d) => d.status),
    ).toEqual(['offline']);
  });

  it('writes when the device goes offline (sweep), opens an alert, comes back, is renamed', async () => {
    await beat();
    minutes(13);
    await t.app.tick();
    expect(writes().at(-1)).toMatchObject({ status: 'offline', openAlerts: ['offline'] });
    expect(mirror.summaries.at(-1)).toMatchObject({ total: 1, online: 0, offline: 1, alerting: 1, appDown: 0 });
    await beat();
    expect(writes().at(-1)!.status).toBe('online');
    await t.app.tick();
    expect(writes().at(-1)).toMatchObject({ status: 'online', openAlerts: [] });
    expect(mirror.summaries.at(-1)).toMatchObject({ online: 1, alerting: 0 });
    const admin = await t.loginAs('operator');
    await t.request('PATCH', `/api/v1/admin/devices/${device.deviceId}`, {
      token: admin,
      body: { name: 'Front door', tags: ['entrance'] },
    });
    expect(writes().at(-1)).toMatchObject({ name: 'Front door', tags: ['entrance'] });
  });

  it('shows a retired device as retired, out of the summary counts, and removes a deleted one', async () => {
    await beat();
    const admin = await t.loginAs('admin');
    const retired = await t.request('POST', `/api/v1/admin/devices/${device.deviceId}/retire`, { token: admin, body: { wipe: false } });
    expect(retired.status).toBe(200);
    expect(writes().at(-1)).toMatchObject({ status: 'retired' });
    expect(mirror.summaries.at(-1)).toMatchObject({ total: 0, online: 0, offline: 0, retired: 1 });
    expect((await t.request('DELETE', `/api/v1/admin/devices/${device.deviceId}`, { token: admin })).status).toBe(204);
    expect(mirror.removed).toEqual([device.deviceId]);
    expect(mirror.summaries.at(-1)).toMatchObject({ total: 0, retired: 0 });
  });
});
