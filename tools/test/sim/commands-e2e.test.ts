import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandaloneApp } from '../../../functions/src/standalone/adapters.js';
import { loadConfig } from '../../../functions/src/config/config.js';
import { createNodeServer, type RunningServer } from '../../../functions/src/http/node-server.js';
import type { HttpRequest, HttpResponse } from '../../../functions/src/core/route.js';
import { openDatabase, type DatabaseHandle } from '../../../functions/src/adapters/postgres/connect.js';
import { migrateToLatest } from '../../../functions/src/adapters/postgres/migrate.js';
import { decrypt } from '../../../functions/src/core/crypto.js';
import { createLogger } from '../../../functions/src/adapters/logging/logger.js';
import type { Push, PushMessage, PushOutcome } from '../../../functions/src/ports/push.js';
import type { CommandSink } from '../../src/sim/command-handler.js';
import { runFleet } from '../../src/sim/fleet.js';
import type { FleetSummary } from '../../src/sim/summary.js';
import { adminApi, waitFor } from './helpers/api.js';

/**
 * Signed commands end to end, no FCM: the real server (in this process, on PGlite) and 100 simulated
 * devices. Push goes through a loopback channel into the simulator's own command sinks, so a command
 * can reach a device by push and in heartbeat answers; the device must run it once.
 */
const DEVICES = 100;
const INTERVAL_SEC = 2;

type Mode = 'deliver' | 'drop' | 'delay';

/** FCM stand-in: accepts every message for a registered token, then delivers it now, later, or never. */
class LoopbackPush implements Push {
  readonly available = true;
  readonly sinks = new Map<string, CommandSink>();
  mode: (token: string) => Mode = () => 'deliver';

  async send(messages: PushMessage[]): Promise<PushOutcome[]> {
    return messages.map((m, i) => {
      const sink = this.sinks.get(m.token);
      if (!sink) return { ok: false, kind: 'unregistered', error: 'unknown token' };
      const mode = this.mode(m.token);
      if (mode === 'deliver') setImmediate(() => sink.receive(m.data, 'push'));
      if (mode === 'delay') setTimeout(() => sink.receive(m.data, 'push'), INTERVAL_SEC * 1000);
      return { ok: true, messageId: `loopback-${Date.now()}-${i}` };
    });
  }
}

describe('commands end to end with the simulator', () => {
  const push = new LoopbackPush();
  const heartbeatCarried = new Map<string, number>();
  /**
   * While set, every result report is refused with 503 until heartbeat answers have carried its command
   * twice: the acknowledgement goes missing for as long as the scenario needs, whatever the timing.
   */
  let refuseUntilCarriedTwice = false;
  /** Rewrites heartbeat answers per device (a man in the middle). */
  const rewrite = new Map<string, (envelope: Record<string, string>) => Record<string, string> | null>();
  const encryptionKey = randomBytes(32);
  let database: DatabaseHandle;
  let http: RunningServer;
  let url = '';
  let admin = '';
  const stop = new AbortController();
  let fleet: Promise<FleetSummary>;

  const api = adminApi(
    () => url,
    () => admin,
  );
  const batchCommands = async (batchId: string) =>
    (await api('GET', `/api/v1/admin/commands?batchId=${batchId}&limit=500`)).json.items as {
      id: string;
      status: string;
      createdAt: string;
      completedAt: string | null;
    }[];

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database.db);
    const config = loadConfig({ ADMIN_BCRYPT_ROUNDS: '4', DEVICE_SECRET_BCRYPT_ROUNDS: '4' });
    const app = createStandaloneApp({
      config,
      secrets: { jwtSecret: randomBytes(32).toString('hex'), encryptionKey },
      db: database.db,
      logger: createLogger({ level: 'warn' }),
      overrides: { push },
    });
    await app.maintenance();
    await app.services.admins.ensureFirstAdmin({ email: 'ops@example.com', password: 'command test password', allowGenerated: false });
    const handle = async (req: HttpRequest): Promise<HttpResponse> => {
      const result = /^\/api\/v1\/commands\/([^/]+)\/result$/.exec(req.path);
      if (result && refuseUntilCarriedTwice && (heartbeatCarried.get(result[1]!) ?? 0) < 2) {
        // no Retry-After: the device backs off exponentially (0.5 s doubling, eight attempts: about a
        // minute), so its report outlasts the two heartbeats even on a loaded machine and is not given up
        return {
          status: 503,
          headers: { 'content-type': 'application/json' },
          body: '{"error":{"code":"unavailable","message":"test"}}',
        };
      }
      const res = await app.handle(req);
      if (req.path === '/api/v1/heartbeat' && res.status === 200) {
        const answer = JSON.parse(res.body.toString()) as { commands: Record<string, string>[] };
        for (const c of answer.commands) heartbeatCarried.set(c.cid!, (heartbeatCarried.get(c.cid!) ?? 0) + 1);
        const change = answer.commands[0] && rewrite.get(answer.commands[0].did!);
        if (change) return { ...res, body: JSON.stringify({ ...answer, commands: answer.commands.map(change).filter(Boolean) }) };
      }
      return res;
    };
    http = createNodeServer(handle, { trustProxy: false, logger: createLogger({ level: 'warn' }) });
    await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    admin = (
      (await (
        await fetch(`${url}/api/v1/admin/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'ops@example.com', password: 'command test password' }),
        })
      ).json()) as { token: string }
    ).token;

    fleet = runFleet({
      url,
      devices: DEVICES,
      intervalSec: INTERVAL_SEC,
      concurrency: 32,
      maxSockets: 64,
      timeoutMs: 10_000,
      chaos: 0,
      seed: 42,
      appPackage: 'com.example.kiosk',
      enrollment: { kind: 'admin', email: 'ops@example.com', password: 'command test password' },
      push: { register: (token, sink) => push.sinks.set(token, sink) },
      signal: stop.signal,
    });
    // every device enrolled, registered for push, and heard from
    const up = await waitFor(async () => {
      const { json } = await api('GET', '/api/v1/admin/devices?limit=500');
      return push.sinks.size === DEVICES && json.items.filter((d: { stateSentAt: string | null }) => d.stateSentAt).length === DEVICES;
    }, 60_000);
    expect(up).toBe(true);
  }, 90_000);

  afterAll(async () => {
    stop.abort();
    await fleet;
    await http?.close(1000);
    await database?.close();
  });

  it('a REBOOT to 100 devices is reported succeeded by all within two heartbeat intervals, run once each', async () => {
    // a third of the pushes arrive at once, a third never (FCM accepted, the device missed it), a third an interval late
    push.mode = (token) => (['deliver', 'drop', 'delay'] as const)[Number(token.split('-').at(-1)) % 3]!;
    const sent = await api('POST', '/api/v1/admin/commands', { type: 'REBOOT', all: true, confirm: { type: 'REBOOT', count: DEVICES } });
    expect([sent.status, sent.json.count]).toEqual([201, DEVICES]);
    const done = await waitFor(
      async () => (await batchCommands(sent.json.batchId)).every((c) => c.status === 'succeeded'),
      10 * INTERVAL_SEC * 1000,
    );
    const commands = await batchCommands(sent.json.batchId);
    expect(done, JSON.stringify(commands.filter((c) => c.status !== 'succeeded'))).toBe(true);
    // within two heartbeat intervals, counted in heartbeats rather than on the clock (a loaded machine
    // stretches the clock, not the protocol): no command needed more than two heartbeat answers
    for (const c of commands) expect(heartbeatCarried.get(c.id) ?? 0, c.id).toBeLessThanOrEqual(2);
    // the late pushes land after the command ran: the device refuses them as replays
    await new Promise((r) => setTimeout(r, INTERVAL_SEC * 1000 + 500));
    const byHeartbeat = commands.filter((c) => (heartbeatCarried.get(c.id) ?? 0) > 0).length;
    expect(byHeartbeat).toBeGreaterThan(0);
  }, 30_000);

  it('runs a command once when it arrives by push and then in two heartbeat answers because the acknowledgement got lost', async () => {
    push.mode = () => 'deliver';
    // every report is refused until two heartbeat answers have carried the command: it stays open and
    // keeps coming back (set before sending: a pushed command can be run and reported before the create
    // call has answered)
    refuseUntilCarriedTwice = true;
    const sent = await api('POST', '/api/v1/admin/commands', {
      type: 'RELAUNCH_APP',
      all: true,
      confirm: { type: 'RELAUNCH_APP', count: DEVICES },
    });
    // (the report's backoff retries at about 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s: room for a slow machine)
    const done = await waitFor(async () => (await batchCommands(sent.json.batchId)).every((c) => c.status === 'succeeded'), 50_000);
    refuseUntilCarriedTwice = false;
    expect(done).toBe(true);
    // every command came by push and then in at least two heartbeat answers; the device ran it once
    // (the fleet's execution count is checked after the last test)
    const twice = (sent.json.commands as { id: string }[]).filter((c) => (heartbeatCarried.get(c.id) ?? 0) >= 2).length;
    expect(twice).toBe(DEVICES);
  }, 75_000);

  it('rejects tampered, expired, misaddressed and replayed envelopes; reports the first two as rejected', async () => {
    push.mode = () => 'drop';
    const { json } = await api('GET', '/api/v1/admin/devices?limit=4&sort=lastSeen');
    const [tampered, expired, misaddressed, other] = json.items.map((d: { id: string }) => d.id) as string[];
    const keyOf = async (id: string) =>
      decrypt(
        encryptionKey,
        (await database.db.selectFrom('devices').select('hmac_key_enc').where('id', '=', id).executeTakeFirstOrThrow()).hmac_key_enc,
      );
    const sign = (key: Buffer, e: Record<string, string>) =>
      createHmac('sha256', key).update(['mdm-cmd-v1', e.cid, e.did, e.type, e.params, e.iat, e.exp].join('\n')).digest('base64url');
    const expiredKey = await keyOf(expired!);
    rewrite.set(tampered!, (e) => ({ ...e, params: '{"evil":true}' }));
    rewrite.set(expired!, (e) => {
      const old = { ...e, iat: String(Math.floor(Date.now() / 1000) - 7200), exp: String(Math.floor(Date.now() / 1000) - 3600) };
      return { ...old, sig: sign(expiredKey, old) };
    });
    // the other device's command, validly signed for it, handed to this device too
    let otherEnvelope: Record<string, string> | undefined;
    rewrite.set(other!, (e) => (otherEnvelope = e));
    let misaddressedServed = false;
    rewrite.set(misaddressed!, () => {
      if (otherEnvelope) misaddressedServed = true;
      return otherEnvelope ?? null;
    });

    const sent = await api('POST', '/api/v1/admin/commands', { type: 'PING', deviceIds: [tampered, expired, other] });
    const misaddressedBatch = await api('POST', '/api/v1/admin/commands', { type: 'PING', deviceIds: [misaddressed] });
    const byDevice = new Map((sent.json.commands as { id: string; deviceId: string }[]).map((c) => [c.deviceId, c.id]));
    const status = async (id: string) =>
      (await api('GET', `/api/v1/admin/commands/${id}`)).json as { status: string; error: string | null };
    const settled = await waitFor(
      async () =>
        (await status(byDevice.get(tampered!)!)).status === 'rejected' &&
        (await status(byDevice.get(expired!)!)).status === 'rejected' &&
        (await status(byDevice.get(other!)!)).status === 'succeeded' &&
        misaddressedServed,
      6 * INTERVAL_SEC * 1000,
    );
    expect(settled).toBe(true);
    expect(await status(byDevice.get(tampered!)!)).toMatchObject({ status: 'rejected', error: 'bad_signature' });
    expect(await status(byDevice.get(expired!)!)).toMatchObject({ status: 'rejected', error: 'expired' });
    // the misaddressed device never ran the other's command, and its own (rewritten away) stays open
    expect((await status(misaddressedBatch.json.commands[0].id)).status).not.toBe('succeeded');
    for (const id of [tampered, expired, misaddressed]) rewrite.delete(id!);

    stop.abort();
    const summary = await fleet;
    // 100 REBOOTs, 100 RELAUNCH_APPs and one PING ran, each exactly once however often it arrived
    const c = summary.commands;
    expect(c.executed).toBe(2 * DEVICES + 1);
    expect(c.succeeded).toBe(2 * DEVICES + 1);
    expect(c.rejectedBy).toMatchObject({
      bad_signature: expect.any(Number),
      expired: expect.any(Number),
      wrong_device: expect.any(Number),
    });
    expect(c.rejectedBy.replayed).toBeGreaterThan(0);
    expect(c.received).toBe(c.executed + c.rejected);
    expect(summary.commands.byChannel.push).toBeGreaterThan(0);
    expect(summary.commands.byChannel.heartbeat).toBeGreaterThan(0);
    expect(summary.errors.total).toBe(0);
  }, 60_000);
});
