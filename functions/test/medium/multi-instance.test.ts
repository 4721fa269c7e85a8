import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../src/adapters/logging/logger.js';
import type { Push, PushMessage, PushOutcome } from '../../src/ports/push.js';
import type { Queue } from '../../src/ports/queue.js';
import { createStandaloneApp, type StandaloneApp } from '../../src/standalone/adapters.js';
import { createTestApp, sampleDevice, type TestApp } from '../helpers/app.js';
import { DB_KINDS } from '../helpers/db.js';

/** A stand-in for FCM that accepts everything and records it. */
class RecordingPush implements Push {
  readonly available = true;
  readonly accepted: PushMessage[] = [];
  async send(messages: PushMessage[]): Promise<PushOutcome[]> {
    return messages.map((m) => {
      this.accepted.push(m);
      return { ok: true, messageId: `m${this.accepted.length}` };
    });
  }
}

/** A queue whose consumer is gone: the instance that published the batch died before pushing it. */
const lostQueue: Queue = { publish: async () => {} };

/**
 * Several instances on one database behave as one: a second app over the first one's database, with
 * the same secrets and clock, as a second server process would run.
 */
describe.each(DB_KINDS)('two instances on one %s database', (kind) => {
  let t: TestApp;
  let b: StandaloneApp;
  const push = new RecordingPush();

  beforeAll(async () => {
    t = await createTestApp(kind, { SWEEP_INTERVAL_SEC: '1' }, { push, queue: lostQueue });
    b = createStandaloneApp({
      config: t.config,
      secrets: t.secrets,
      db: t.db.db,
      logger: memoryLogger(),
      clock: t.clock,
      overrides: { push, queue: lostQueue },
    });
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  /** A request to instance B (A is t.request). */
  const requestB = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await b.handle({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? Buffer.from(JSON.stringify(body)) : undefined,
      ip: '192.0.2.11',
    });
    return { status: res.status, json: JSON.parse(res.body.toString() || 'null') };
  };

  it('sweep one tick per interval across both, and the other takes over once the holder stops', async () => {
    let ran = 0;
    for (let i = 0; i < 30; i++) {
      t.clock.advance(1000);
      const results = await Promise.all([t.app.tick(), b.tick()]);
      ran += results.filter((r) => r !== undefined).length;
    }
    expect(ran).toBe(30);
    // A stops ticking (killed): B waits out A's lease (1.5 intervals), then ticks every interval
    const byB: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      t.clock.advance(1000);
      byB.push((await b.tick()) !== undefined);
    }
    expect(byB).toEqual([false, true, true, true]);
    // and A, back, finds the lease held
    t.clock.advance(1000);
    expect(await t.app.tick()).toBeUndefined();
  });

  it('let go of the jobs when an instance stops, so another runs the next tick', async () => {
    const c = createStandaloneApp({ config: t.config, secrets: t.secrets, db: t.db.db, logger: memoryLogger(), clock: t.clock });
    t.clock.advance(10_000); // every lease has expired
    expect(await c.tick()).toBeDefined();
    expect(await t.app.tick()).toBeUndefined();
    await c.close();
    expect(await t.app.tick()).toBeDefined(); // at once, not 1.5 intervals later
  });

  it('run maintenance on one instance per interval', async () => {
    const first = await t.app.maintenance();
    const second = await b.maintenance();
    expect([first.ran, second.ran].filter(Boolean)).toHaveLength(1);
  });

  it('push a batch whose claim went stale on the next tick', async () => {
    const admin = await t.loginAs('admin');
    const operator = await t.loginAs('operator');
    const token = (await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: {} })).json.token;
    const device = (
      await t.request('POST', '/api/v1/enroll', { body: { enrollmentToken: token, device: sampleDevice(), fcmToken: 'fcm-stale' } })
    ).json;
    const created = await t.request('POST', '/api/v1/admin/commands', {
      token: operator,
      body: { type: 'PING', deviceIds: [device.deviceId] },
    });
    expect(created.status).toBe(201);
    const batchId = created.json.batchId as string;
    // an instance claims the batch for pushing and dies before pushing it
    await sql`update commands set push_claimed_at = ${t.clock.now()}::timestamptz where batch_id = ${batchId}::uuid`.execute(t.db.db);
    expect(push.accepted.filter((m) => m.token === 'fcm-stale')).toHaveLength(0);

    t.clock.advance(30_000); // a live claim is left alone
    await Promise.all([t.app.tick(), b.tick()]);
    expect(push.accepted.filter((m) => m.token === 'fcm-stale')).toHaveLength(0);

    t.clock.advance(3 * 60_000); // the claim is stale now: whichever instance ticks pushes it
    await Promise.all([t.app.tick(), b.tick()]);
    expect(push.accepted.filter((m) => m.token === 'fcm-stale')).toHaveLength(1);
    const cmd = (await t.request('GET', `/api/v1/admin/commands/${created.json.commands[0].id}`, { token: operator })).json;
    expect(cmd.status).toBe('dispatched');

    t.clock.advance(3 * 60_000); // pushed once, never again
    await Promise.all([t.app.tick(), b.tick()]);
    expect(push.accepted.filter((m) => m.token === 'fcm-stale')).toHaveLength(1);
  });

  it('keep both of two alert-settings changes made at once on different instances', async () => {
    const admin = await t.loginAs('admin');
    const before = (await t.request('GET', '/api/v1/admin/settings/alerts', { token: admin })).json;
    expect(before.thresholds.lowBatteryPct).not.toBe(20);
    expect(before.thresholds.holdSec).not.toBe(60);
    // both instances have the settings in their cache, as they do while they sweep
    await requestB('GET', '/api/v1/admin/settings/alerts', admin);
    const [a1, b1] = await Promise.all([
      t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { thresholds: { lowBatteryPct: 20 } } }),
      requestB('PUT', '/api/v1/admin/settings/alerts', admin, { thresholds: { holdSec: 60 } }),
    ]);
    expect([a1.status, b1.status]).toEqual([200, 200]);
    for (const read of [
      (await t.request('GET', '/api/v1/admin/settings/alerts', { token: admin })).json,
      (await requestB('GET', '/api/v1/admin/settings/alerts', admin)).json,
    ]) {
      expect(read.thresholds).toMatchObject({ lowBatteryPct: 20, holdSec: 60 });
    }
  });

  it('show a settings change made on one instance on the other within a second', async () => {
    const admin = await t.loginAs('admin');
    await requestB('GET', '/api/v1/admin/settings/alerts', admin); // B has them cached
    const changed = await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { thresholds: { lowBatteryPct: 25 } } });
    expect(changed.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1050));
    expect((await requestB('GET', '/api/v1/admin/settings/alerts', admin)).json.thresholds.lowBatteryPct).toBe(25);
    expect((await b.services.alertSettings.current()).thresholds.lowBatteryPct).toBe(25);
  });
});
