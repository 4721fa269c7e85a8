import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandaloneApp } from '../../../functions/src/standalone/adapters.js';
import { loadConfig } from '../../../functions/src/config/config.js';
import { createNodeServer, type RunningServer } from '../../../functions/src/http/node-server.js';
import { openDatabase, type DatabaseHandle } from '../../../functions/src/adapters/postgres/connect.js';
import { migrateToLatest } from '../../../functions/src/adapters/postgres/migrate.js';
import { createLogger } from '../../../functions/src/adapters/logging/logger.js';
import { runFleet } from '../../src/sim/fleet.js';
import { PolicyApplier, verifyPolicy, type PolicyFaults } from '../../src/sim/policy.js';
import type { FleetSummary } from '../../src/sim/summary.js';
import { adminApi, waitFor } from './helpers/api.js';

/** The shared policy vectors (docs/vectors/policy.json), checked by the simulator's own verifier. */
const vectors = JSON.parse(readFileSync(new URL('../../../docs/vectors/policy.json', import.meta.url), 'utf8')) as {
  device: { deviceId: string; hmacKey: string };
  now: number;
  hash: string;
  canonical: string;
  envelope: Record<string, string>;
  tampered: { name: string; envelope: Record<string, string>; reject: string }[];
};

describe('the simulator on the shared policy vectors', () => {
  const { deviceId, hmacKey } = vectors.device;

  it('accepts the signed document, again and again (applying is idempotent; no replay check)', () => {
    for (let i = 0; i < 2; i++) {
      const verdict = verifyPolicy(deviceId, hmacKey, vectors.envelope, vectors.now);
      expect(verdict).toEqual({ ok: true, hash: vectors.hash, document: JSON.parse(vectors.canonical) });
    }
  });

  it.each(vectors.tampered)('refuses $name as $reject', ({ envelope, reject }) => {
    expect(verifyPolicy(deviceId, hmacKey, envelope, vectors.now)).toEqual({ ok: false, reason: reject });
  });

  it('reports every item applied, except the faulty share of devices for the named item', () => {
    const faults: PolicyFaults = { failed: { item: 'lockTaskFeatures', share: 0.5 }, unsupported: { item: 'statusBarDisabled', share: 1 } };
    const doc = JSON.parse(vectors.canonical) as Record<string, unknown>;
    const reports = Array.from({ length: 40 }, (_, i) => new PolicyApplier(`device-${i}`, faults).apply(doc));
    for (const items of reports) {
      expect(items.map((i) => i.item)).toEqual(Object.keys(doc).sort());
      expect(items.find((i) => i.item === 'statusBarDisabled')?.status).toBe('unsupported');
    }
    const failed = reports.filter((items) => items.some((i) => i.status === 'failed')).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(35);
    // the same device fails the same way every time
    expect(new PolicyApplier('device-3', faults).apply(doc)).toEqual(reports[3]);
  });
});

/**
 * Convergence end to end: the real server (in this process, on PGlite) and simulated devices. A
 * fleet policy is saved; every device sees the new hash in a heartbeat answer, fetches, verifies,
 * applies and reports; a configured share fails one item. Compliance then counts exactly those.
 */
describe('policy convergence with the simulator', () => {
  const DEVICES = 20;
  const faults: PolicyFaults = { failed: { item: 'lockTaskFeatures', share: 0.3 } };
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

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database.db);
    const app = createStandaloneApp({
      config: loadConfig({ ADMIN_BCRYPT_ROUNDS: '4', DEVICE_SECRET_BCRYPT_ROUNDS: '4', HEARTBEAT_DEVICE_MAX_PER_MIN: '600' }),
      secrets: { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32) },
      db: database.db,
      logger: createLogger({ level: 'warn' }),
    });
    await app.maintenance();
    await app.services.admins.ensureFirstAdmin({ email: 'ops@example.com', password: 'policy test password', allowGenerated: false });
    http = createNodeServer(app.handle, { trustProxy: false, logger: createLogger({ level: 'warn' }) });
    await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    const login = await fetch(`${url}/api/v1/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: 'policy test password' }),
    });
    admin = ((await login.json()) as { token: string }).token;
    fleet = runFleet({
      url,
      devices: DEVICES,
      intervalSec: 1,
      concurrency: 8,
      maxSockets: 16,
      timeoutMs: 10_000,
      chaos: 0,
      seed: 7,
      appPackage: 'com.example.kiosk',
      enrollment: { kind: 'admin', email: 'ops@example.com', password: 'policy test password' },
      policyFaults: faults,
      signal: stop.signal,
    });
    const up = await waitFor(async () => (await api('GET', '/api/v1/admin/devices?limit=500')).json.items.length === DEVICES, 60_000);
    expect(up).toBe(true);
  }, 90_000);

  afterAll(async () => {
    stop.abort();
    await fleet;
    await http?.close(1000);
    await database?.close();
  });

  it('every device applies and reports the new policy; the faulty share is failed with its reason', async () => {
    const saved = await api('PUT', '/api/v1/admin/policies/fleet', {
      screenTimeoutSec: 120,
      lockTaskFeatures: ['SYSTEM_INFO'],
      userRestrictions: ['no_safe_boot', 'no_factory_reset'],
    });
    expect(saved.status).toBe(200);
    const settled = await waitFor(async () => (await api('GET', '/api/v1/admin/compliance/summary')).json.total.pending === 0, 30_000);
    expect(settled).toBe(true);
    const devices = (await api('GET', '/api/v1/admin/compliance?limit=500')).json.items as {
      deviceId: string;
      state: string;
      reportedHash: string;
    }[];
    expect(devices).toHaveLength(DEVICES);
    const expectFailed = devices.filter((d) =>
      new PolicyApplier(d.deviceId, faults).apply({ lockTaskFeatures: [] }).some((i) => i.status === 'failed'),
    );
    expect(
      devices
        .filter((d) => d.state === 'failed')
        .map((d) => d.deviceId)
        .sort(),
    ).toEqual(expectFailed.map((d) => d.deviceId).sort());
    for (const d of devices) expect(d.reportedHash).toBe(saved.json.effective.hash);
    if (expectFailed[0]) {
      const one = await api('GET', `/api/v1/admin/devices/${expectFailed[0].deviceId}/compliance`);
      expect(one.json.nonCompliant).toEqual([{ item: 'lockTaskFeatures', status: 'failed', reason: 'simulated failure' }]);
    }
  }, 60_000);
});
