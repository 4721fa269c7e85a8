import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleDevice, sampleHeartbeat } from '../helpers/app.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { postJson, startServer, type ServerProcess } from '../helpers/server.js';

const DEVICES = 10;

/**
 * kill -9 of the standalone server in the middle of a heartbeat load: a 200 is only sent after the
 * heartbeat's statement committed, so every heartbeat answered 200 is in the database; the agents
 * resend the rest after the restart, and what they resend is stored once.
 */
describe('kill -9 of the standalone server during a heartbeat load (PostgreSQL)', () => {
  let url: string;
  let dataDir: string;
  let server: ServerProcess | undefined;
  let client: pg.Client;
  const devices: { id: string; secret: string; token: string }[] = [];
  const env = () => ({
    DATABASE_URL: url,
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'kill test password',
    ADMIN_BCRYPT_ROUNDS: '4',
    DEVICE_SECRET_BCRYPT_ROUNDS: '4',
    // each device sends its heartbeats back to back, then resends them after the kill
    HEARTBEAT_DEVICE_MAX_PER_MIN: '600',
    ...(dataDir ? { DATA_DIR: dataDir } : {}),
  });
  const post = (path: string, body: unknown, token?: string) => postJson(server!.url + path, body, token);

  beforeAll(async () => {
    url = await clonePostgresDatabase();
    server = await startServer(env());
    dataDir = server.dataDir; // the restart keeps the generated secrets, so device sessions stay valid
    client = new pg.Client({ connectionString: url });
    await client.connect();
    const admin = (
      (await (await post('/api/v1/admin/login', { email: 'ops@example.com', password: 'kill test password' })).json()) as { token: string }
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
      devices.push({ id: d.deviceId, secret: d.deviceSecret, token: s.accessToken });
    }
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await server?.stop('SIGKILL');
    if (url) await dropPostgresDatabase(url);
  });

  it('loses no heartbeat that was answered 200, and stores the resent ones once', async () => {
    const bootId = randomBytes(8).toString('hex');
    const body = (seq: number) => ({
      ...sampleHeartbeat(new Date(), { bootId, seq }),
      events: [{ type: 'kill.test', at: new Date().toISOString(), data: { seq } }],
    });
    const acked = new Set<string>();
    const sent: { device: number; seq: number }[] = [];
    let killed = false;
    const sender = async (d: number) => {
      // each device sends its heartbeats one after another, as the agent does
      for (let seq = 0; !killed; seq++) {
        sent.push({ device: d, seq });
        try {
          const res = await post('/api/v1/heartbeat', body(seq), devices[d]!.token);
          if (res.status === 200) acked.add(`${devices[d]!.id}:${seq}`);
          await res.arrayBuffer();
        } catch {
          return; // the server is gone
        }
      }
    };
    const load = Promise.all(devices.map((_, d) => sender(d)));
    await new Promise((r) => setTimeout(r, 1500));
    killed = true;
    await server!.stop('SIGKILL');
    await load;
    expect(acked.size).toBeGreaterThan(50);

    const stored = async () =>
      (
        await client.query<{ device_id: string; seq: string }>(
          `select device_id, data->>'seq' as seq from device_events where type = 'kill.test'`,
        )
      ).rows.map((r) => `${r.device_id}:${r.seq}`);
    const afterKill = new Set(await stored());
    const lost = [...acked].filter((k) => !afterKill.has(k));
    expect(lost).toEqual([]);
    const { rows } = await client.query<{ hb: number; ev: number }>(
      `select (select count(*)::int from heartbeats) as hb, (select count(*)::int from device_events where type = 'kill.test') as ev`,
    );
    expect(rows[0]!.hb).toBe(rows[0]!.ev);

    // restart on the same database and data directory; every agent resends what it did not get a 200 for
    server = await startServer(env());
    const unanswered = sent.filter((s) => !acked.has(`${devices[s.device]!.id}:${s.seq}`));
    // and some that were answered 200 just before the kill (their answers might have been lost on the way)
    const lastAcked = devices.flatMap((_, d) => sent.filter((s) => s.device === d && acked.has(`${devices[d]!.id}:${s.seq}`)).slice(-2));
    for (const s of [...unanswered, ...lastAcked]) {
      const res = await post('/api/v1/heartbeat', body(s.seq), devices[s.device]!.token);
      expect(res.status).toBe(200);
    }
    const all = await stored();
    expect(new Set(all).size).toBe(all.length); // nothing twice
    expect(all.length).toBe(new Set(sent.map((s) => `${devices[s.device]!.id}:${s.seq}`)).size);
  });
});
