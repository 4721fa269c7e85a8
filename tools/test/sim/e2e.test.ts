import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet, type FleetOptions } from '../../src/sim/fleet.js';
import { ADMIN, startServer, type RunningServer } from './helpers/server.js';

let server: RunningServer | undefined;
let stateDir: string;

beforeAll(async () => {
  // The server refuses HEARTBEAT_INTERVAL_SEC below 10; the simulator keeps its own 1 s interval.
  server = await startServer({ HEARTBEAT_INTERVAL_SEC: '10' });
  stateDir = await mkdtemp(join(tmpdir(), 'sim-e2e-state-'));
});

afterAll(async () => {
  await server?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function admin<T>(path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server!.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return (await res.json()) as T;
}

interface DeviceItem {
  status: string;
  serial: string | null;
  battery: { level: number } | null;
  app: { package: string; running: boolean } | null;
  group: { name: string } | null;
}

describe('the simulator against the real standalone server', () => {
  const fleet = (over: Partial<FleetOptions> = {}): FleetOptions => ({
    url: server!.url,
    devices: 20,
    intervalSec: 1,
    concurrency: 8,
    maxSockets: 16,
    timeoutMs: 10_000,
    chaos: 0,
    seed: 1,
    appPackage: 'com.example.kiosk',
    enrollment: { kind: 'admin', email: ADMIN.email, password: ADMIN.password, group: 'Simulator' },
    durationSec: 8,
    stateFile: join(stateDir, 'fleet.json'),
    ...over,
  });

  it('enrolls 20 devices that beat without a single error and show up online with their state', async () => {
    const summary = await runFleet(fleet());
    expect(summary.devices).toMatchObject({ wanted: 20, enrolled: 20, fromState: 0, active: 20, removed: 0 });
    expect(summary.errors).toEqual({ total: 0, byKind: {} });
    expect(summary.sessionsOpened).toBe(20);
    // 20 devices at ~1 s for the ~7 s after enrollment: well over 100 heartbeats.
    expect(summary.heartbeats.ok).toBeGreaterThan(100);
    expect(summary.heartbeats.ok).toBe(summary.heartbeats.sent);
    // Once all were up, the fleet kept its rate (20 devices at 1 s). A beat whose previous one is still
    // unanswered after a whole interval is skipped, not queued (overrun): on a machine busy with other
    // suites an answer now and then takes over a second, so a few are allowed, never a pile-up.
    expect(summary.heartbeats.steadyPerSec).toBeGreaterThan(16);
    expect(summary.heartbeats.overrun).toBeLessThan(summary.heartbeats.sent / 20);
    expect(summary.latencyMs.heartbeat?.count).toBe(summary.heartbeats.ok);

    const { token } = await admin<{ token: string }>('/api/v1/admin/login', undefined, ADMIN);
    const { items } = await admin<{ items: DeviceItem[] }>('/api/v1/admin/devices?limit=100', token);
    expect(items).toHaveLength(20);
    expect(new Set(items.map((d) => d.serial)).size).toBe(20);
    for (const d of items) {
      expect(d.status).toBe('online');
      expect(d.battery?.level).toBeGreaterThanOrEqual(0);
      expect(d.battery?.level).toBeLessThanOrEqual(100);
      expect(d.app).toMatchObject({ package: 'com.example.kiosk', running: true });
      expect(d.group?.name).toBe('Simulator');
    }
    // One multi-use token, used up by exactly these 20 enrollments.
    const tokens = await admin<{ items: { label: string; uses: number; maxUses: number; status: string }[] }>(
      '/api/v1/admin/enrollment-tokens',
      token,
    );
    expect(tokens.items.filter((t) => t.label === 'simulator')).toEqual([
      expect.objectContaining({ uses: 20, maxUses: 20, status: 'used' }),
    ]);
  });

  it('reuses the devices in --state on a second run instead of enrolling new ones', async () => {
    const summary = await runFleet(fleet({ durationSec: 3, enrollment: { kind: 'admin', email: ADMIN.email, password: '' } }));
    expect(summary.devices).toMatchObject({ enrolled: 20, fromState: 20, active: 20 });
    expect(summary.errors.total).toBe(0);
    expect(summary.latencyMs.enroll).toBeUndefined();
    const { token } = await admin<{ token: string }>('/api/v1/admin/login', undefined, ADMIN);
    const { items } = await admin<{ items: DeviceItem[] }>('/api/v1/admin/devices?limit=100', token);
    expect(items).toHaveLength(20);
  });
});
