import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandaloneApp } from '../../src/standalone/adapters.js';
import { loadConfig } from '../../src/config/config.js';
import { memoryLogger } from '../../src/adapters/logging/logger.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, testEnv, type TestApp } from '../helpers/app.js';

const TOKEN = randomBytes(32).toString('base64url');

/** GET /metrics over the real handler: the fleet gauges come from the database, so every instance agrees. */
describe.each(DB_KINDS)('metrics on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t.close());

  const scrape = async (handle = t.app.handle) => {
    const res = await handle({
      method: 'GET',
      path: '/metrics',
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${TOKEN}` },
      body: undefined,
      ip: '127.0.0.1',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.body.toString();
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('reports devices, commands, open alerts, notifications, heartbeats and requests', async () => {
    const a = await t.enrollDevice();
    await t.enrollDevice();
    t.clock.advance(3600_000); // both devices go quiet
    const hb = await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(a),
      body: { ...sampleHeartbeat(t.clock.now()), bootId: 'b', seq: 0 },
    });
    expect(hb.status).toBe(200);
    await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(a),
      body: { ...sampleHeartbeat(t.clock.now()), bootId: 'b', seq: 0 },
    });
    const operator = await t.loginAs('operator');
    expect(
      (await t.request('POST', '/api/v1/admin/commands', { token: operator, body: { type: 'PING', deviceIds: [a.deviceId] } })).status,
    ).toBe(201);
    await t.db.db
      .insertInto('alerts')
      .values({ device_id: a.deviceId, kind: 'low_battery', condition_since: t.clock.now(), opened_at: t.clock.now() })
      .execute();

    const text = await scrape();
    expect(value(text, 'mdm_devices{status="online"}')).toBe(1);
    expect(value(text, 'mdm_devices{status="offline"}')).toBe(1);
    expect(value(text, 'mdm_commands{state="queued"}')! + value(text, 'mdm_commands{state="dispatched"}')!).toBe(1);
    expect(value(text, 'mdm_commands{state="expired"}')).toBe(0);
    expect(value(text, 'mdm_alerts_open{kind="low_battery"}')).toBe(1);
    expect(value(text, 'mdm_alerts_open{kind="offline"}')).toBe(0);
    expect(value(text, 'mdm_notifications_stored{status="pending"}')).toBe(0);
    expect(value(text, 'mdm_heartbeats_ingested_total')).toBe(1);
    expect(value(text, 'mdm_heartbeats_duplicate_total')).toBe(1);
    expect(value(text, 'mdm_http_requests_total{method="POST",route="/api/v1/heartbeat",status="200"}')).toBe(2);
    expect(value(text, 'mdm_rollup_lag_seconds')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE mdm_http_request_duration_seconds histogram');
    expect(text).toContain('mdm_push_results_total');
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    // the embedded database has one connection, reported like a pool of one
    expect(text).toContain('mdm_db_pool_connections{state="in_use"}');
    expect(value(text, 'mdm_db_pool_waiting')).toBe(0);
  });

  it('gives the same fleet gauges from another instance on the same database', async () => {
    const other = createStandaloneApp({
      config: loadConfig(testEnv({ METRICS_TOKEN: TOKEN })),
      secrets: { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32) },
      db: t.db.db,
      logger: memoryLogger(),
      clock: t.clock,
    });
    try {
      const fleet = (text: string) => text.split('\n').filter((l) => /^mdm_(devices|commands|alerts_open|notifications_stored)\{/.test(l));
      t.clock.advance(20_000); // past the 10 s cache of the first instance
      const mine = fleet(await scrape());
      expect(mine.length).toBeGreaterThan(10);
      expect(fleet(await scrape(other.handle))).toEqual(mine);
      // its process counters are its own
      expect(value(await scrape(other.handle), 'mdm_heartbeats_ingested_total')).toBe(0);
    } finally {
      await other.close();
    }
  });
  it('reports what on-call needs: enrollments, alerts opened and resolved, self-healing, expired commands, devices per group', async () => {
    const before = await scrape();
    const grouped = await t.enrollDevice();
    const token = await t.deviceToken(grouped);
    const admin = await t.loginAs('admin');
    expect(
      (await t.request('PATCH', `/api/v1/admin/devices/${grouped.deviceId}`, { token: admin, body: { group: 'Store 12' } })).status,
    ).toBe(200);
    // the kiosk app is down long enough for an alert, which self-healing answers with a relaunch
    await t.request('POST', '/api/v1/heartbeat', {
      token,
      body: sampleHeartbeat(t.clock.now(), { app: { package: 'com.example.kiosk', running: false, foreground: false } }),
    });
    await t.app.tick();
    t.clock.advance(10 * 60_000);
    await t.request('POST', '/api/v1/heartbeat', {
      token,
      body: sampleHeartbeat(t.clock.now(), { app: { package: 'com.example.kiosk', running: false, foreground: false } }),
    });
    await t.app.tick();
    const text = await scrape();
    const delta = (series: string) => (value(text, series) ?? 0) - (value(before, series) ?? 0);
    expect(delta('mdm_enrollments_total')).toBe(1);
    expect(delta('mdm_alerts_opened_total')).toBeGreaterThanOrEqual(1); // app_down (and the older devices' offline)
    expect(value(text, 'mdm_self_healing_steps_total{step="command"}')).toBeGreaterThanOrEqual(1);
    // the fleet gauges are cached for 10 s per process: a fresh instance reads them now
    const other = createStandaloneApp({
      config: loadConfig(testEnv({ METRICS_TOKEN: TOKEN })),
      secrets: { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32) },
      db: t.db.db,
      logger: memoryLogger(),
      clock: t.clock,
    });
    try {
      const fresh = await scrape(other.handle);
      expect(value(fresh, 'mdm_devices_by_group{group="Store 12"}')).toBe(1);
      expect(value(fresh, 'mdm_alerts_open{kind="app_down"}')).toBe(1);
    } finally {
      await other.close();
    }
    expect(text).toContain('# HELP mdm_alerts_resolved_total');
    expect(text).toContain('# HELP mdm_commands_expired_total');
  });
});
