import { describe, expect, it } from 'vitest';
import type { Db } from '../ports/db.js';
import { memoryLogger } from '../adapters/logging/logger.js';
import type { HeartbeatInput } from './devices.schemas.js';
import type { HeartbeatRow } from './devices.repository.js';
import { HeartbeatWriter, type InsertHeartbeats } from './heartbeat-writer.js';

const db = {} as Db;
const hb = {} as HeartbeatInput;
const row = (deviceId: string, receivedAt = new Date('2026-03-10T12:00:00Z')): HeartbeatRow => ({ deviceId, hb, receivedAt });
const sqlError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

/** A fake of the batch statement: records each batch and answers with every device except "ghost". */
function fakeInsert(behaviour: (batch: HeartbeatRow[], call: number) => void = () => {}) {
  const batches: string[][] = [];
  const insert: InsertHeartbeats = async (_db, rows) => {
    batches.push(rows.map((r) => r.deviceId));
    behaviour(rows, batches.length);
    await new Promise((r) => setTimeout(r, 5));
    return new Map(
      rows
        .filter((r) => r.deviceId !== 'ghost')
        .map((r) => [r.deviceId, { hasCommands: r.deviceId === 'busy', mirrorDue: r.deviceId === 'busy' }]),
    );
  };
  return { insert, batches };
}

describe('HeartbeatWriter (group commit)', () => {
  it('writes heartbeats that arrive together in one statement and answers each', async () => {
    const fake = fakeInsert();
    const writer = new HeartbeatWriter(db, memoryLogger(), { maxBatch: 500, maxInFlight: 2 }, fake.insert);
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => writer.write(row(`d${i}`))));
    expect(results.every((r) => r?.hasCommands === false)).toBe(true);
    expect(fake.batches).toHaveLength(1);
    expect(writer.stats).toMatchObject({ statements: 1, rows: 300, largestBatch: 300 });
  });

  it('keeps batches within maxBatch and statements within maxInFlight, queueing the rest', async () => {
    let inFlight = 0;
    let peak = 0;
    const insert: InsertHeartbeats = async (_db, rows) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return new Map(rows.map((r) => [r.deviceId, { hasCommands: false, mirrorDue: false }]));
    };
    const writer = new HeartbeatWriter(db, memoryLogger(), { maxBatch: 50, maxInFlight: 3 }, insert);
    await Promise.all(Array.from({ length: 400 }, (_, i) => writer.write(row(`d${i}`))));
    expect(writer.stats.largestBatch).toBe(50);
    expect(writer.stats.statements).toBe(8);
    expect(peak).toBe(3);
  });

  it('answers null for a device that does not exist, and each device whether it has commands', async () => {
    const writer = new HeartbeatWriter(db, memoryLogger(), { maxBatch: 10, maxInFlight: 1 }, fakeInsert().insert);
    expect(await Promise.all([writer.write(row('a')), writer.write(row('ghost')), writer.write(row('busy'))])).toEqual([
      { hasCommands: false, policy: null },
      null,
      { hasCommands: true, policy: null },
    ]);
  });

  it('retries a batch that lost a deadlock, without failing anyone', async () => {
    const fake = fakeInsert((_b, call) => {
      if (call === 1) throw sqlError('40P01', 'deadlock detected');
    });
    const writer = new HeartbeatWriter(db, memoryLogger(), { maxBatch: 10, maxInFlight: 1 }, fake.insert);
    expect(await Promise.all([writer.write(row('a')), writer.write(row('b'))])).toEqual([
      { hasCommands: false, policy: null },
      { hasCommands: false, policy: null },
    ]);
    expect(fake.batches).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(writer.stats.retries).toBe(1);
  });

  it('creates the missing partitions of the days in the batch, then writes it', async () => {
    const fake = fakeInsert((_b, call) => {
      if (call === 1) throw sqlError('23514', 'no partition of relation "heartbeats" found for row');
    });
    const ensured: [string, number][] = [];
    const writer = new HeartbeatWriter(db, memoryLogger(), { maxBatch: 10, maxInFlight: 1 }, fake.insert, async (_db, from, days) => {
      ensured.push([from.toISOString(), days]);
      return days;
    });
    await Promise.all([writer.write(row('a', new Date('2026-03-10T23:59:59Z'))), writer.write(row('b', new Date('2026-03-11T00:00:01Z')))]);
    expect(ensured).toEqual([['2026-03-10T23:59:59.000Z', 2]]);
    expect(fake.batches).toHaveLength(2);
  });

  it('splits a refused batch so that only the heartbeat at fault fails', async () => {
    const fake = fakeInsert((batch) => {
      if (batch.some((r) => r.deviceId === 'poison')) throw sqlError('22003', 'value out of range');
    });
    const logs = memoryLogger();
    const writer = new HeartbeatWriter(db, logs, { maxBatch: 10, maxInFlight: 1 }, fake.insert);
    const results = await Promise.allSettled([writer.write(row('a')), writer.write(row('poison')), writer.write(row('b'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('22003');
    expect(logs.lines.some((l) => l.message === 'heartbeat batch failed; retrying one by one')).toBe(true);
  });

  it('gives up after three retries and fails the request', async () => {
    const fake = fakeInsert(() => {
      throw sqlError('40P01');
    });
    const writer = new HeartbeatWriter(db, memoryLogger(), { maxBatch: 10, maxInFlight: 1 }, fake.insert);
    await expect(writer.write(row('a'))).rejects.toMatchObject({ code: '40P01' });
    expect(fake.batches).toHaveLength(4);
  });
});
