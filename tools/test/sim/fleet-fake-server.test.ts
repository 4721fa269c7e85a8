import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFleet, type FleetOptions } from '../../src/sim/fleet.js';
import { envelope } from './helpers/envelopes.js';
import { FakeServer, type FakeDevice } from './helpers/fake-server.js';

let server: FakeServer;
let url: string;
let dir: string;

beforeEach(async () => {
  server = new FakeServer();
  url = await server.start();
  dir = await mkdtemp(join(tmpdir(), 'sim-fake-'));
});
afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const options = (over: Partial<FleetOptions> = {}): FleetOptions => ({
  url,
  devices: 4,
  intervalSec: 0.2,
  concurrency: 4,
  maxSockets: 8,
  timeoutMs: 2000,
  chaos: 0,
  seed: 1,
  appPackage: 'com.example.kiosk',
  enrollment: { kind: 'token', token: 'mdmet_fake' },
  durationSec: 2.5,
  ...over,
});

const ok = (commands: unknown[] = []) => ({ status: 200, body: { serverTime: new Date().toISOString(), nextHeartbeatSec: 300, commands } });

describe('runFleet against a scripted server', () => {
  it('sends heartbeats in the protocol shape from every device, spread and repeated', async () => {
    const summary = await runFleet(options());
    expect(summary.devices).toMatchObject({ wanted: 4, enrolled: 4, active: 4 });
    expect(summary.errors.total).toBe(0);
    expect(summary.sessionsOpened).toBe(4);
    for (const d of server.devices.values()) {
      expect(d.heartbeats.length).toBeGreaterThanOrEqual(8);
      const hb = d.heartbeats[0]!;
      expect(Date.parse(String(hb.sentAt))).not.toBeNaN();
      expect(hb).toMatchObject({
        battery: { level: expect.any(Number), charging: expect.any(Boolean) },
        memory: { availBytes: expect.any(Number), totalBytes: expect.any(Number) },
        app: { package: 'com.example.kiosk', running: true, foreground: true },
        uptimeSec: expect.any(Number),
        agentVersion: '1.0.0',
      });
    }
    expect(summary.heartbeats.ok).toBe([...server.devices.values()].reduce((n, d) => n + d.heartbeats.length, 0));
  });

  it('executes valid commands from heartbeat answers, rejects bad ones and reports both', async () => {
    const sent = new Map<FakeDevice, boolean>();
    const cids: Record<string, string> = {};
    server.onResult = (cid) =>
      cid === cids.ping ? { status: 404, body: { error: { code: 'not_found', message: '' } } } : { status: 204, body: undefined };
    server.onHeartbeat = (d) => {
      if (sent.get(d) || d !== server.byIndex(0)) return undefined;
      sent.set(d, true);
      const ping = envelope({ did: d.id, key: d.hmacKey, type: 'PING' });
      const config = envelope({ did: d.id, key: d.hmacKey, type: 'SET_CONFIG', params: { heartbeatIntervalSec: 1 } });
      const forged = { ...envelope({ did: d.id, key: d.hmacKey, type: 'PING' }), type: 'WIPE' };
      cids.ping = ping.cid;
      cids.config = config.cid;
      cids.forged = forged.cid;
      return ok([ping, config, forged, ping]);
    };
    const summary = await runFleet(options({ devices: 2 }));
    expect(summary.commands).toMatchObject({ received: 4, executed: 2, succeeded: 2, rejected: 2, resultsReported: 2, resultsNotFound: 1 });
    expect(summary.commands.rejectedBy).toEqual({ bad_signature: 1, replayed: 1 });
    expect(summary.errors.total).toBe(0);
    const statusOf = (cid: string | undefined) => server.results.find((r) => r.cid === cid)?.body;
    expect(statusOf(cids.ping)).toEqual({ status: 'succeeded', output: 'pong' });
    expect(statusOf(cids.config)).toEqual({ status: 'succeeded' });
    expect(statusOf(cids.forged)).toEqual({ status: 'rejected', error: 'bad_signature' });
    expect(server.results).toHaveLength(3);
    // SET_CONFIG took the device from 0.2 s to 1 s: far fewer beats than its sibling after that.
    expect(server.byIndex(0).heartbeats.length).toBeLessThan(server.byIndex(1).heartbeats.length / 2);
  });

  it('opens a new session on a 401 and retries; stops a removed device; stops a wiped one', async () => {
    let dropped = false;
    server.onHeartbeat = (d) => {
      const [first, second, third] = [server.byIndex(0), server.byIndex(1), server.byIndex(2)];
      if (d === first && !dropped && d.heartbeats.length === 2) {
        dropped = true;
        d.tokens.clear(); // the session expired early: the next request gets 401 invalid_token
      }
      if (d === second && d.heartbeats.length === 2) d.removed = true;
      if (d === third && d.heartbeats.length === 2) return ok([envelope({ did: d.id, key: d.hmacKey, type: 'WIPE' })]);
      return undefined;
    };
    const summary = await runFleet(options({ stateFile: join(dir, 'state.json') }));
    expect(summary.sessionsAfter401).toBeGreaterThanOrEqual(2); // device 0 (token dropped) and device 1 (removed)
    expect(summary.devices).toMatchObject({ enrolled: 4, active: 2, removed: 1, wiped: 1 });
    expect(summary.errors.total).toBe(0);
    expect(server.byIndex(0).heartbeats.length).toBeGreaterThanOrEqual(8); // went on after the new session
    expect(server.byIndex(1).heartbeats).toHaveLength(2); // the next one was refused, and no more came
    expect(server.byIndex(2).heartbeats).toHaveLength(2);
    // The state keeps the two devices still enrolled; a second run reuses them and enrolls two more.
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { devices: { deviceId: string }[] };
    expect(state.devices.map((d) => d.deviceId).sort()).toEqual([server.byIndex(0).id, server.byIndex(3).id].sort());
    server.onHeartbeat = () => undefined;
    const again = await runFleet(options({ stateFile: join(dir, 'state.json'), durationSec: 1 }));
    expect(again.devices).toMatchObject({ enrolled: 4, fromState: 2, active: 4 });
    expect(server.devices.size).toBe(6);
  });

  it('reports RELEASE_OWNER as succeeded and sends no heartbeat after it', async () => {
    let cid: string | undefined;
    server.onHeartbeat = (d) => {
      if (d !== server.byIndex(0) || d.heartbeats.length !== 2) return undefined;
      const release = envelope({ did: d.id, key: d.hmacKey, type: 'RELEASE_OWNER' });
      cid = release.cid;
      return ok([release]);
    };
    const summary = await runFleet(options({ devices: 2 }));
    expect(summary.devices).toMatchObject({ enrolled: 2, active: 1, released: 1, wiped: 0 });
    expect(server.results.find((r) => r.cid === cid)?.body).toMatchObject({ status: 'succeeded' });
    expect(server.byIndex(0).heartbeats).toHaveLength(2);
    expect(server.byIndex(1).heartbeats.length).toBeGreaterThanOrEqual(8);
  });

  it('opens a new session before the current one expires, without waiting for a 401', async () => {
    server.sessionTtlMs = 1000;
    const summary = await runFleet(options({ devices: 2, durationSec: 2.6 }));
    // Each device renews about once a second: at start, then twice more in 2.6 s.
    expect(summary.sessionsOpened).toBeGreaterThanOrEqual(2 * 3);
    expect(summary.sessionsAfter401).toBe(0);
    expect(summary.errors.total).toBe(0);
  });

  it('stops promptly on abort and counts network errors by kind', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 800);
    const started = Date.now();
    const summary = await runFleet(options({ durationSec: undefined, signal: abort.signal }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(summary.heartbeats.ok).toBeGreaterThan(0);

    await server.stop();
    const down = await runFleet(options({ durationSec: 0.5 }));
    expect(down.devices.enrolled).toBe(0);
    expect(down.errors.byKind['enroll net ECONNREFUSED']).toBe(4);
  });
});
