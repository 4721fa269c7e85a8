import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../src/adapters/logging/logger.js';
import { LIVE_CHANNEL, PgNotifyMirror } from '../../src/adapters/postgres/pg-notify-mirror.js';
import type { DeviceDoc, FleetSummary, Mirror } from '../../src/ports/mirror.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** What an instance's own consoles receive. */
class Recorder implements Mirror {
  readonly devices: DeviceDoc[] = [];
  readonly summaries: FleetSummary[] = [];
  readonly removed: string[] = [];
  async writeDevices(docs: DeviceDoc[]) {
    this.devices.push(...docs);
  }
  async writeSummary(s: FleetSummary) {
    this.summaries.push(s);
  }
  async removeDevices(ids: string[]) {
    this.removed.push(...ids);
  }
}

const doc = (i: number): DeviceDoc => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  name: `Kiosk in the hall number ${i}`,
  model: 'Pixel 7',
  serial: `SN${i}`,
  group: 'lobby',
  tags: ['front', 'ground-floor'],
  status: 'online',
  lastSeenAt: new Date().toISOString(),
  battery: 80,
  charging: false,
  app: 'running',
  appVersionName: '2.3.0',
  appVersionCode: 230,
  agentVersion: '1.0.0',
  androidVersion: '14',
  openAlerts: [],
  updatedAt: new Date().toISOString(),
});

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('live events across instances through LISTEN/NOTIFY (PostgreSQL)', () => {
  let db: TestDatabase;
  const local = { a: new Recorder(), b: new Recorder() };
  let a: PgNotifyMirror;
  let b: PgNotifyMirror;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = new PgNotifyMirror(local.a, { db: db.db, url: db.url!, logger: memoryLogger() });
    b = new PgNotifyMirror(local.b, { db: db.db, url: db.url!, logger: memoryLogger(), retryMs: 50 });
    await Promise.all([a.start(), b.start()]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.close();
  });

  it("hands one instance's documents to the other's consoles, in payloads under the limit, once each", async () => {
    const docs = Array.from({ length: 300 }, (_, i) => doc(i)); // about 100 kB: many NOTIFY payloads
    const sent = Date.now();
    await a.writeDevices(docs);
    await a.writeSummary({ total: 300, online: 300, offline: 0, alerting: 0, appDown: 0, retired: 0, updatedAt: new Date().toISOString() });
    await until(() => local.b.devices.length === 300 && local.b.summaries.length === 1);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(local.b.devices.map((d) => d.id)).toEqual(docs.map((d) => d.id));
    await new Promise((r) => setTimeout(r, 100));
    expect(local.a.devices).toHaveLength(300); // its own, not echoed back
    expect(local.a.summaries).toHaveLength(1);
  });

  it("tells the other instance's consoles that deleted devices are gone", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => doc(i).id); // more than one payload
    await a.removeDevices(ids);
    await until(() => local.b.removed.length === 200);
    expect(local.b.removed).toEqual(ids);
    expect(local.a.removed).toEqual(ids); // its own consoles too, not echoed back twice
  });

  it('listens again after its connection is cut', async () => {
    const before = local.a.devices.length;
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and query = ${`listen ${LIVE_CHANNEL}`} and pid <> pg_backend_pid()`.execute(db.db);
    // events sent while it reconnects may be missed; a later one arrives
    await until(() => {
      void b.writeDevices([doc(1000)]);
      return local.a.devices.length > before;
    }, 5000);
    expect(local.a.devices.at(-1)!.id).toBe(doc(1000).id);
  });
});
