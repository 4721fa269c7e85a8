import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandaloneApp, type StandaloneApp } from '../../src/standalone/adapters.js';
import { loadConfig } from '../../src/config/config.js';
import { createNodeServer, type RunningServer } from '../../src/http/node-server.js';
import { openDatabase, type DatabaseHandle } from '../../src/adapters/postgres/connect.js';
import { memoryLogger } from '../../src/adapters/logging/logger.js';
import { sampleDevice, sampleHeartbeat, testEnv } from '../helpers/app.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { postJson } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const DEVICES = 12;

/**
 * The database goes away in the middle of a heartbeat and command load (every connection cut, new
 * ones refused) and comes back. Every answer is a success or a 503 with Retry-After; nothing is half
 * written; the server recovers by itself; heartbeats retried after the outage are stored once.
 */
describe('the database going away under load (PostgreSQL behind a proxy)', () => {
  let url: string;
  let proxy: TcpProxy;
  let database: DatabaseHandle;
  let app: StandaloneApp;
  let http: RunningServer;
  let base: string;
  let admin: string;
  const appLog = memoryLogger();
  const devices: { id: string; token: string }[] = [];

  const post = (path: string, body: unknown, token?: string) => postJson(base + path, body, token);

  beforeAll(async () => {
    url = await clonePostgresDatabase();
    const target = new URL(url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    database = await openDatabase({ kind: 'postgres', url: viaProxy.toString(), poolMax: 6 });
    app = createStandaloneApp({
      config: loadConfig(testEnv()),
      secrets: { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32) },
      db: database.db,
      dbPool: database.stats,
      logger: appLog,
    });
    await app.maintenance();
    await app.services.admins.ensureFirstAdmin({ email: 'ops@example.com', password: 'outage test password', allowGenerated: false });
    http = createNodeServer(app.handle, { trustProxy: false, logger: memoryLogger() });
    await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    admin = (
      (await (await post('/api/v1/admin/login', { email: 'ops@example.com', password: 'outage test password' })).json()) as {
        token: string;
      }
    ).token;
    for (let i = 0; i < DEVICES; i++) {
      const token = ((await (await post('/api/v1/admin/enrollment-tokens', {}, admin)).json()) as { token: string }).token;
      const d = (await (await post('/api/v1/enroll', { enrollmentToken: token, device: sampleDevice() })).json()) as {
        deviceId: string;
        deviceSecret: string;
      };
      const s = (await (await post('/api/v1/device/session', { deviceId: d.deviceId, deviceSecret: d.deviceSecret })).json()) as {
        accessToken: string;
      };
      devices.push({ id: d.deviceId, token: s.accessToken });
    }
  }, 120_000);

  afterAll(async () => {
    await http?.close(100);
    await app?.close();
    await database?.close();
    await proxy?.close();
    if (url) await dropPostgresDatabase(url);
  });

  it('answers 503 with Retry-After while it is gone, writes nothing by halves, and recovers without a restart', async () => {
    const bootId = randomBytes(8).toString('hex');
    const heartbeat = (seq: number) => ({
      ...sampleHeartbeat(new Date(), { bootId, seq }),
      events: [{ type: 'fault.test', at: new Date().toISOString(), data: { seq } }],
    });
    const answers: { kind: 'hb' | 'cmd'; status: number; retryAfter: string | null; device?: string; seq?: number; batchId?: string }[] =
      [];
    const failures: string[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    // One loop per device, as the agent runs: heartbeats one after another, seq counting up; an
    // answer other than 200 (or none) means sending the same heartbeat again after a pause.
    const seqs = new Map<string, number>();
    let retries = 0;
    const stopAt = Date.now() + 6000;

    const heartbeats = async (d: { id: string; token: string }) => {
      let seq = 0;
      while (Date.now() < stopAt) {
        let status = 0;
        try {
          const res = await post('/api/v1/heartbeat', heartbeat(seq), d.token);
          status = res.status;
          answers.push({ kind: 'hb', status, retryAfter: res.headers.get('retry-after'), device: d.id, seq });
          await res.arrayBuffer();
        } catch (err) {
          failures.push(`heartbeat ${d.id}:${seq}: ${String(err)}`);
        }
        if (status === 200) seq++;
        else {
          retries++;
          await new Promise((r) => setTimeout(r, 100)); // the agent waits Retry-After; kept short here
        }
      }
      seqs.set(d.id, seq);
    };
    const commands = async () => {
      while (Date.now() < stopAt) {
        try {
          const res = await post('/api/v1/admin/commands', { type: 'PING', deviceIds: devices.map((d) => d.id) }, admin);
          const body = (await res.json()) as { batchId?: string };
          answers.push({
            kind: 'cmd',
            status: res.status,
            retryAfter: res.headers.get('retry-after'),
            ...(body.batchId ? { batchId: body.batchId } : {}),
          });
        } catch (err) {
          failures.push(`command: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const outage = async () => {
      await new Promise((r) => setTimeout(r, 1500));
      phase = 'down';
      await proxy.down();
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
      await new Promise((r) => setTimeout(r, 2000));
      await proxy.up();
      phase = 'after';
    };
    await Promise.all([...devices.map((d) => heartbeats(d)), commands(), outage()]);
    expect(phase).toBe('after');

    // every answer: success, or 503 with Retry-After - never a 500, never a dropped connection
    expect(failures).toEqual([]);
    const statuses = new Set(answers.map((a) => a.status));
    const unhandled = appLog.lines.filter((l) => l.message === 'unhandled error');
    for (const s of statuses) expect([200, 201, 503], JSON.stringify(unhandled).slice(0, 4000)).toContain(s);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 503)) expect(a.retryAfter).toMatch(/^\d+$/);
    expect(answers.filter((a) => a.status !== 503).length).toBeGreaterThan(0);

    // recovered by itself: the same server answers again
    await expect.poll(async () => (await fetch(`${base}/healthz`)).status, { timeout: 15_000 }).toBe(200);
    const last = seqs.get(devices[0]!.id)!;
    seqs.set(devices[0]!.id, last + 1);
    const after = await post('/api/v1/heartbeat', heartbeat(last), devices[0]!.token);
    expect(after.status).toBe(200);

    // heartbeats: everything answered 200 is stored; each stored heartbeat has its event (one statement)
    const { rows: stored } = await database.pool!.query<{ device_id: string; seq: number }>(
      `select device_id, (data->>'seq')::int as seq from device_events where type = 'fault.test'`,
    );
    const keys = new Set(stored.map((r) => `${r.device_id}:${r.seq}`));
    expect(keys.size).toBe(stored.length); // none twice
    for (const a of answers.filter((x) => x.kind === 'hb' && x.status === 200))
      expect(keys, `seq ${a.seq}`).toContain(`${a.device}:${a.seq}`);
    const { rows: counts } = await database.pool!.query<{ hb: number; ev: number }>(
      `select (select count(*)::int from heartbeats) as hb, (select count(*)::int from device_events where type = 'fault.test') as ev`,
    );
    expect(counts[0]!.hb).toBe(counts[0]!.ev);

    // commands: every batch is whole (one command per device) and audited, and every 201 is among them
    const { rows: batches } = await database.pool!.query<{ batch_id: string; n: number; audited: boolean }>(
      `select c.batch_id, count(*)::int as n,
         exists (select 1 from audit_log a where a.action = 'sent_command' and a.target_id = c.batch_id::text) as audited
       from commands c group by c.batch_id`,
    );
    for (const b of batches) expect(b).toMatchObject({ n: DEVICES, audited: true });
    const batchIds = new Set(batches.map((b) => b.batch_id));
    for (const a of answers.filter((x) => x.kind === 'cmd' && x.status === 201)) expect(batchIds).toContain(a.batchId);
    const { rows: audits } = await database.pool!.query<{ n: number }>(
      `select count(*)::int as n from audit_log where action = 'sent_command'`,
    );
    expect(audits[0]!.n).toBe(batches.length);

    // every heartbeat was sent until it got its 200 - some several times, some after their first
    // attempt had committed behind a lost answer - and each is stored exactly once
    expect(retries).toBeGreaterThan(0);
    const { rows: final } = await database.pool!.query<{ n: number; distinct: number }>(
      `select count(*)::int as n, count(distinct (device_id, data->>'seq'))::int as distinct from device_events where type = 'fault.test'`,
    );
    expect(final[0]!.n).toBe(final[0]!.distinct);
    expect(final[0]!.n).toBe([...seqs.values()].reduce((a, b) => a + b, 0));
  });
});
