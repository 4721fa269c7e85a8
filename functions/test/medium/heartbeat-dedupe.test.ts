import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBatch } from '../../src/commands/commands.repository.js';
import { insertHeartbeats } from '../../src/devices/devices.repository.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/**
 * A heartbeat whose answer was lost (a timeout, a dropped connection, a 503 after the commit) is sent
 * again by the agent with the same bootId and seq: it is answered like the first time but stored once.
 */
describe.each(DB_KINDS)('heartbeats retried with the same bootId and seq on %s', (kind) => {
  let t: TestApp;
  let device: EnrolledDevice;
  let token: string;
  let n = 0;
  beforeAll(async () => {
    t = await createTestApp(kind);
    device = await t.enrollDevice();
    token = await t.deviceToken(device);
  });
  afterAll(() => t.close());

  const beat = (bootId: string | undefined, seq: number | undefined, extra: Record<string, unknown> = {}) => {
    t.clock.advance(1000);
    return t.request('POST', '/api/v1/heartbeat', {
      token,
      body: sampleHeartbeat(new Date(t.clock.now().getTime() - 500), {
        uptimeSec: 1000 + ++n,
        ...(bootId ? { bootId, seq } : {}),
        ...extra,
      }),
    });
  };
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
  const events = async () =>
    Number(
      (
        await t.db.db
          .selectFrom('device_events')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('device_id', '=', device.deviceId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('stores a retry of the same (bootId, seq) once, its events once, and answers it like the first', async () => {
    const before = await stored();
    const event = { events: [{ type: 'app.crash', at: t.clock.now().toISOString() }] };
    const first = await beat('boot-a', 0, event);
    const again = await beat('boot-a', 0, event);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(Object.keys(again.json).sort()).toEqual([
      'cancelled',
      'commands',
      'nextHeartbeatSec',
      'policy',
      'protocolVersion',
      'serverTime',
    ]);
    expect(await stored()).toBe(before + 1);
    expect(await events()).toBe(1);
    expect(t.app.services.heartbeats.stats.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('still hands a retried heartbeat its pending commands', async () => {
    const operator = await t.loginAs('operator');
    const sent = await t.request('POST', '/api/v1/admin/commands', {
      token: operator,
      body: { type: 'PING', deviceIds: [device.deviceId] },
    });
    expect(sent.status).toBe(201);
    const first = await beat('boot-a', 1);
    const again = await beat('boot-a', 1);
    expect(first.json.commands).toHaveLength(1);
    expect(again.json.commands.map((c: { cid: string }) => c.cid)).toEqual(first.json.commands.map((c: { cid: string }) => c.cid));
  });

  it('keeps out-of-order seqs within the window, once each', async () => {
    const before = await stored();
    for (const seq of [5, 7, 6, 6, 7, 5, 2, 2]) expect((await beat('boot-a', seq)).status).toBe(200);
    expect(await stored()).toBe(before + 4); // 5, 7, 6, 2
  });

  it('dedupes copies inside one group-commit batch', async () => {
    const before = await stored();
    const body = sampleHeartbeat(t.clock.now(), { bootId: 'boot-a', seq: 20 });
    const answers = await Promise.all(Array.from({ length: 5 }, () => t.request('POST', '/api/v1/heartbeat', { token, body })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await stored()).toBe(before + 1);
  });

  it('treats a new bootId as a new sequence, and heartbeats without bootId as never duplicates', async () => {
    const before = await stored();
    await beat('boot-b', 0);
    await beat('boot-b', 1);
    await beat('boot-b', 1);
    await beat(undefined, undefined);
    await beat(undefined, undefined);
    expect(await stored()).toBe(before + 4);
    const row = await t.db.db
      .selectFrom('devices')
      .select(['hb_boot_id', 'hb_seq'])
      .where('id', '=', device.deviceId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ hb_boot_id: 'boot-b', hb_seq: 1 });
  });

  it('stores a seq older than the 64-wide window (it cannot tell), and jumps the window forward', async () => {
    const before = await stored();
    await beat('boot-b', 500);
    await beat('boot-b', 10); // far behind: no record of it, so it is kept
    await beat('boot-b', 500);
    await beat('boot-b', 437); // inside the window of 500, never seen
    await beat('boot-b', 437);
    expect(await stored()).toBe(before + 3);
  });

  it('refuses a bootId without a seq (and the other way round), an over-long bootId and a negative seq', async () => {
    for (const extra of [
      { bootId: 'x' },
      { seq: 1 },
      { bootId: 'x'.repeat(65), seq: 1 },
      { bootId: 'x', seq: -1 },
      { bootId: 'x', seq: 1.5 },
      { bootId: '', seq: 1 },
    ]) {
      const res = await t.request('POST', '/api/v1/heartbeat', { token, body: { ...sampleHeartbeat(t.clock.now()), ...extra } });
      expect(res.status, JSON.stringify(extra)).toBe(400);
    }
  });

  it('stores once when the original and its retry are in two statements at the same time', async () => {
    if (kind === 'pglite') return; // one session: statements cannot overlap
    const before = await stored();
    const row = {
      deviceId: device.deviceId,
      hb: { ...sampleHeartbeat(t.clock.now()), bootId: 'boot-c', seq: 0 } as never,
      receivedAt: t.clock.now(),
    };
    const policy = { now: t.clock.now(), offlineCutoff: new Date(0), refreshBefore: new Date(0), frozenAfterMs: 30_000 };
    for (let round = 0; round < 5; round++) {
      const seq = round;
      const copy = { ...row, hb: { ...(row.hb as object), seq } as never };
      const results = await Promise.all(Array.from({ length: 4 }, () => insertHeartbeats(t.db.db, [copy], policy)));
      expect(results.map((r) => r.get(device.deviceId)!.duplicates).sort()).toEqual([0, 1, 1, 1]);
    }
    expect(await stored()).toBe(before + 5);
  });

  it('does not make a command sent to the device wait for its heartbeat being written, nor the other way round', async () => {
    if (kind === 'pglite') return; // one session: transactions cannot overlap
    // The heartbeat locks the device row against other heartbeats; a new command's foreign-key
    // check takes a share lock on the same row. The two must not conflict, or a command sent to a
    // beating fleet waits on (and can deadlock with) the heartbeat batches.
    const now = t.clock.now();
    const policy = { now, offlineCutoff: new Date(0), refreshBefore: new Date(0), frozenAfterMs: 30_000 };
    const row = (seq: number) => ({
      deviceId: device.deviceId,
      hb: { ...sampleHeartbeat(now), bootId: 'boot-d', seq } as never,
      receivedAt: now,
    });
    const command = (trx: typeof t.db.db) =>
      insertBatch(
        trx,
        {
          batchId: randomUUID(),
          type: 'PING',
          params: '{}',
          createdAt: now,
          createdByType: 'system',
          createdBy: null,
          notBefore: now,
          expiresAt: new Date(now.getTime() + 60_000),
        },
        { deviceIds: [device.deviceId] },
      );
    const second = <T>(work: (trx: typeof t.db.db) => Promise<T>) =>
      t.db.db.transaction().execute(async (trx) => {
        await sql`set local lock_timeout = '2s'`.execute(trx); // a conflict fails with 55P03 instead of waiting
        return work(trx);
      });
    await t.db.db.transaction().execute(async (hb) => {
      await insertHeartbeats(hb, [row(0)], policy);
      expect(await second(command)).toHaveLength(1);
    });
    await t.db.db.transaction().execute(async (cmd) => {
      await command(cmd);
      const written = await second((hb) => insertHeartbeats(hb, [row(1)], policy));
      expect(written.get(device.deviceId)).toMatchObject({ duplicates: 0 });
    });
  });
});
