import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARAMS } from '../../src/commands/commands.schemas.js';
import { loadConfig } from '../../src/config/config.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/** One device token flooding heartbeats: beyond HEARTBEAT_DEVICE_MAX_PER_MIN a minute, 429 and nothing stored. */
describe('per-device heartbeat quota', () => {
  let t: TestApp;
  let device: EnrolledDevice;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp('pglite', { HEARTBEAT_DEVICE_MAX_PER_MIN: '10' });
    device = await t.enrollDevice();
    token = await t.deviceToken(device);
  });
  afterAll(() => t.close());

  const beat = (i: number) =>
    t.request('POST', '/api/v1/heartbeat', { token, body: sampleHeartbeat(new Date(t.clock.now().getTime() - 1000 + i)) });
  const stored = async () =>
    Number(
      (
        await t.db.db
          .selectFrom('heartbeats')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('device_id', '=', device.deviceId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('by default leaves a device at the shortest interval SET_CONFIG allows room for PINGs and retries', () => {
    const shortest = PARAMS.SET_CONFIG.safeParse({ heartbeatIntervalSec: 4 }).success ? 4 : 5;
    expect(PARAMS.SET_CONFIG.safeParse({ heartbeatIntervalSec: 5 }).success).toBe(true);
    expect(loadConfig({}).heartbeatDeviceMaxPerMin).toBeGreaterThanOrEqual(2 * (60 / shortest));
  });

  it('stores 10 in a minute, answers the rest 429 with Retry-After and stores none of them', async () => {
    const statuses: number[] = [];
    let retryAfter = '';
    for (let i = 0; i < 30; i++) {
      const res = await beat(i);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = String(res.headers['retry-after']);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual(Array(20).fill(429));
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(await stored()).toBe(10);
  });

  it('lets the device in again as the minute refills, without touching other devices', async () => {
    const other = await t.enrollDevice();
    const otherToken = await t.deviceToken(other);
    const res = await t.request('POST', '/api/v1/heartbeat', { token: otherToken, body: sampleHeartbeat(t.clock.now()) });
    expect(res.status).toBe(200);
    t.clock.advance(6_000); // one token back (10 a minute)
    expect((await beat(100)).status).toBe(200);
    expect((await beat(101)).status).toBe(429);
    t.clock.advance(60_000);
    for (let i = 0; i < 10; i++) expect((await beat(200 + i)).status).toBe(200);
    expect(await stored()).toBe(21);
  });
});
