import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleDevice, sampleHeartbeat } from '../helpers/app.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { freePort, postJson, startServer, type ServerProcess } from '../helpers/server.js';

/** HAProxy from Debian (`apt-get install haproxy`, as .ci/run does). */
const HAPROXY = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
if (!HAPROXY) {
  process.stderr.write('multi-instance test SKIPPED: haproxy is not installed (apt-get install -y haproxy)\n');
}

/** The load balancer of docs/operations.md ("Several instances"), on loopback. */
const haproxyConfig = (port: number, backends: number[]) => `
global
  maxconn 1024
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  # the live stream stays open: HAProxy must not cut it while it is idle between events
  timeout tunnel 1h
  option forwardfor
  retries 2
  option redispatch
frontend fleet
  bind 127.0.0.1:${port}
  default_backend instances
backend instances
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
${backends.map((p, i) => `  server i${i} 127.0.0.1:${p} check inter 500 fall 2 rise 1`).join('\n')}
`;

const SWEEP_SEC = 1;

/**
 * Two standalone servers on one PostgreSQL database with the same secrets, behind HAProxy: devices
 * enroll and beat through the balancer, a console on one instance sees the other's events live, one
 * instance is killed under load without losing a heartbeat it answered 200, and the sweep runs once
 * per interval across both.
 */
describe.skipIf(!HAPROXY)('two instances behind a load balancer', () => {
  let databaseUrl: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let lb: ChildProcess | undefined;
  let lbUrl: string;
  const env = {
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'two instances password',
    ADMIN_BCRYPT_ROUNDS: '4',
    DEVICE_SECRET_BCRYPT_ROUNDS: '4',
    SWEEP_INTERVAL_SEC: String(SWEEP_SEC),
    TRUST_PROXY: 'true',
    LOG_LEVEL: 'debug',
  };

  beforeAll(async () => {
    databaseUrl = await clonePostgresDatabase();
    [a, b] = await Promise.all([startServer({ ...env, DATABASE_URL: databaseUrl }), startServer({ ...env, DATABASE_URL: databaseUrl })]);
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'fleet-mdm-lb-'));
    await writeFile(join(dir, 'haproxy.cfg'), haproxyConfig(port, [a.port, b.port]));
    lb = spawn(HAPROXY!, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let lbErr = '';
    lb.stderr!.on('data', (d: Buffer) => (lbErr += d.toString()));
    lbUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await fetch(`${lbUrl}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`haproxy not answering:\n${lbErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);
  afterAll(async () => {
    lb?.kill('SIGKILL');
    await Promise.all([a?.stop('SIGKILL'), b?.stop()]);
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it('acts as one instance', async () => {
    const json = async (res: Response) => (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const admin = (await json(await postJson(`${lbUrl}/api/v1/admin/login`, { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD })))
      .token as string;
    expect(admin).toBeTruthy();

    // devices enroll and open sessions through the balancer (requests alternate between A and B)
    const devices: { id: string; access: string }[] = [];
    const enrollmentToken = (await json(await postJson(`${lbUrl}/api/v1/admin/enrollment-tokens`, { maxUses: 10 }, admin))).token;
    for (let i = 0; i < 6; i++) {
      const enrolled = await json(await postJson(`${lbUrl}/api/v1/enroll`, { enrollmentToken, device: sampleDevice() }));
      const session = await json(
        await postJson(`${lbUrl}/api/v1/device/session`, { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret }),
      );
      devices.push({ id: enrolled.deviceId, access: session.accessToken });
    }

    // the console's stream on B sees a device that beats on A, within a second
    const stream = await fetch(`${b.url}/api/v1/admin/stream`, { headers: { authorization: `Bearer ${admin}` } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let buffered = '';
    const deviceEvent = async (id: string, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        for (const m of buffered.matchAll(/event: device\ndata: (.*)\n\n/g)) {
          const doc = JSON.parse(m[1]!) as { id: string; battery: number };
          if (doc.id === id) return doc;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no device event for ${id} on B within ${ms} ms`);
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
        if (chunk && !chunk.done) buffered += new TextDecoder().decode(chunk.value);
      }
    };
    const sent = Date.now();
    const beat = await postJson(
      `${a.url}/api/v1/heartbeat`,
      sampleHeartbeat(new Date(), { battery: { level: 33, charging: false } }),
      devices[0]!.access,
    );
    expect(beat.status).toBe(200);
    expect(await deviceEvent(devices[0]!.id, 1000)).toMatchObject({ id: devices[0]!.id, battery: 30 });
    const liveMs = Date.now() - sent;
    await reader.cancel();

    // devices beat through the balancer; A is killed half-way; every heartbeat answered 200 is stored
    const answered = new Map<string, number>(devices.map((d) => [d.id, 0]));
    const afterKill = new Map<string, number>(devices.map((d) => [d.id, 0]));
    let failed = 0;
    let killedAt = 0;
    const runUntil = Date.now() + 8000;
    const load = devices.map(async (d) => {
      while (Date.now() < runUntil) {
        const res = await postJson(`${lbUrl}/api/v1/heartbeat`, sampleHeartbeat(new Date()), d.access).catch(() => undefined);
        if (res?.status === 200) {
          answered.set(d.id, answered.get(d.id)! + 1);
          if (killedAt) afterKill.set(d.id, afterKill.get(d.id)! + 1);
        } else failed++; // a device retries on its next beat
        await res?.arrayBuffer().catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const bothFrom = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const bothMs = Date.now() - bothFrom;
    killedAt = Date.now();
    await a.stop('SIGKILL');
    await Promise.all(load);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ device_id: string; n: number }>(
        `select device_id, count(*)::int as n from heartbeats where device_id = any($1::uuid[]) group by device_id`,
        [devices.map((d) => d.id)],
      );
      const stored = new Map(rows.map((r) => [r.device_id, r.n]));
      for (const d of devices) {
        // the load's 200s, plus device 0's heartbeat straight to A
        expect(stored.get(d.id) ?? 0).toBeGreaterThanOrEqual(answered.get(d.id)! + (d === devices[0] ? 1 : 0));
        expect(afterKill.get(d.id)).toBeGreaterThan(0); // carried on through B
      }
    } finally {
      await db.end();
    }

    // the sweep: once per interval across both while both ran, then B alone goes on
    const ticks = (server: ServerProcess) =>
      server
        .output()
        .split('\n')
        .filter((l) => l.includes('"message":"tick ran"'))
        .map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
    const all = [...ticks(a), ...ticks(b)].sort((x, y) => x - y);
    const inWindow = all.filter((t) => t >= bothFrom && t < bothFrom + bothMs).length;
    const intervals = bothMs / (SWEEP_SEC * 1000);
    process.stderr.write(
      `multi-instance: live event A->B ${liveMs} ms; ${inWindow} sweeps in ${intervals.toFixed(1)} intervals with both up; ` +
        `${[...answered.values()].reduce((s, n) => s + n, 0)} heartbeats answered 200, ${failed} not, during A's kill\n`,
    );
    expect(inWindow).toBeGreaterThanOrEqual(Math.floor(intervals) - 1);
    expect(inWindow).toBeLessThanOrEqual(Math.ceil(intervals) + 1);
    expect(ticks(b).filter((t) => t > killedAt + 2 * SWEEP_SEC * 1000).length).toBeGreaterThan(0);
  }, 60_000);
});
