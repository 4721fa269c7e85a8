import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inShare, runFleet } from '../../src/sim/fleet.js';
import type { FleetSummary } from '../../src/sim/summary.js';
import { ADMIN, startServer, type RunningServer } from './helpers/server.js';
import { adminApi } from './helpers/api.js';

/**
 * Staged rollouts end to end: the standalone server (its tick every second) and 200 simulated devices
 * beating every 2 s. The catalog's fixtures are releases of one package signed by one key (versions
 * 1 and 2) and, after the pin is rotated, by another (version 3); the simulated kiosk app is that
 * package, the agent's own (so the devices report it as their app and as `agentVersionCode`). Version 2
 * crashes on a fifth of the devices (the simulator's crash model), version 3 on none. The group's policy
 * names the agent's release (`agentRelease`, as A): compliance follows what the devices run, and the
 * completed rollout moves the policy to B.
 */
const DEVICES = 200;
const PACKAGE = 'dev.fleetmdm.agent';
const GROUP = 'Rollout';
const APK = (name: string) => fileURLToPath(new URL(`../../../docs/vectors/apk/${name}.apk`, import.meta.url));
const SIGNERS = JSON.parse(
  await readFile(fileURLToPath(new URL('../../../docs/vectors/apk/expected.json', import.meta.url)), 'utf8'),
) as Record<string, { signerSha256: string }>;

interface Wave {
  index: number;
  state: string;
  devices: number;
  pending: number;
  updated: number;
  failed: number;
  rollbackSent: number;
  rolledBack: number;
  verdict: { passed: boolean; reasons: string[]; wave?: { appDownPct: number; crashesPerDeviceHour: number; devices: number } } | null;
}
interface Rollout {
  id: string;
  state: string;
  currentWave: number | null;
  pausedReason: string | null;
  devices: number;
  waves: Wave[];
}

let server: RunningServer;
let token = '';
const stop = new AbortController();
let fleet: Promise<FleetSummary>;

const api = adminApi(
  () => server.url,
  () => token,
);
const upload = async (name: string) => {
  const res = await api('POST', '/api/v1/admin/releases', await readFile(APK(name)), 'application/vnd.android.package-archive');
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.id as string;
};
const rollout = async (id: string) => (await api('GET', `/api/v1/admin/rollouts/${id}`)).json as Rollout;
const devices = async () =>
  (await api('GET', '/api/v1/admin/devices?limit=500')).json.items as {
    id: string;
    status: string;
    app: { versionCode: number | null } | null;
    agentVersionCode: number | null;
  }[];
/** Every INSTALL_APK the server holds, as (device, release) pairs. */
const installs = async () => {
  const all: { deviceId: string; releaseId: string }[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; nextCursor: string | null } = (
      await api('GET', `/api/v1/admin/commands?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    ).json;
    for (const c of page.items as { type: string; deviceId: string; params: { releaseId: string } }[]) {
      if (c.type === 'INSTALL_APK') all.push({ deviceId: c.deviceId, releaseId: c.params.releaseId });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return all;
};
interface Counts {
  compliant: number;
  pending: number;
  failed: number;
}
/** The group's compliance counts (the summary's row for the group). */
const compliance = async (): Promise<Counts> => {
  const res = await api('GET', '/api/v1/admin/compliance/summary');
  expect(res.status).toBe(200);
  const g = (res.json.groups as (Counts & { group: string | null })[]).find((x) => x.group === GROUP);
  return { compliant: g?.compliant ?? 0, pending: g?.pending ?? 0, failed: g?.failed ?? 0 };
};
/** Polls until the compliance counts are `want`; no device is ever failed on the way. */
const converge = async (want: Counts, timeoutMs: number) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await compliance();
    expect(c.failed).toBe(0);
    expect(c.compliant + c.pending).toBe(DEVICES);
    if (c.compliant === want.compliant && c.pending === want.pending) return c;
    if (Date.now() > until) throw new Error(`compliance did not converge: ${JSON.stringify(c)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
const groupPolicy = async () => {
  const groups = (await api('GET', '/api/v1/admin/groups')).json.items as { id: string; name: string }[];
  const id = groups.find((g) => g.name === GROUP)!.id;
  return { id, policy: (await api('GET', `/api/v1/admin/groups/${id}/policy`)).json as { version: number; document: unknown } };
};
const countBy = <T>(items: T[], key: (t: T) => string) => {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
};

/**
 * Polls the rollout until `done`, checking the counts' invariants at every step: the waves' sizes never
 * change, a wave's pending + updated never exceeds its devices, only the current wave or an earlier
 * one has anything sent, and a passed wave has every device updated.
 */
const follow = async (id: string, sizes: number[], done: (r: Rollout) => boolean, timeoutMs: number) => {
  const seen = new Set<string>();
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await rollout(id);
    expect(r.waves.map((w) => w.devices)).toEqual(sizes);
    const c = await compliance(); // devices sent B are pending until the policy names B; none fails
    expect([c.failed, c.compliant + c.pending]).toEqual([0, DEVICES]);
    for (const w of r.waves) {
      seen.add(`${w.index}:${w.state}`);
      expect(w.pending + w.updated + w.failed).toBeLessThanOrEqual(w.devices);
      if (w.index > (r.currentWave ?? -1)) expect([w.state, w.pending, w.updated]).toEqual(['pending', 0, 0]);
      if (w.state === 'soaking' || w.state === 'passed') expect(w.updated).toBe(w.devices); // the soak began when all had B
      if (w.state === 'passed') expect([w.failed, w.verdict?.passed]).toEqual([0, true]);
    }
    if (done(r)) return { rollout: r, seen };
    if (Date.now() > until) throw new Error(`rollout not done in time: ${JSON.stringify(r, null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

const releases: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer((port) => ({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SWEEP_INTERVAL_SEC: '1',
    HEARTBEAT_INTERVAL_SEC: '10',
  }));
  token = (await api('POST', '/api/v1/admin/login', ADMIN)).json.token;
  releases.v1 = await upload('agent-1');
  releases.v2 = await upload('agent-2');
  fleet = runFleet({
    url: server.url,
    devices: DEVICES,
    intervalSec: 2,
    concurrency: 16,
    maxSockets: 32,
    timeoutMs: 10_000,
    chaos: 0,
    seed: 7,
    appPackage: PACKAGE,
    appVersionCode: 1,
    crash: { versionCode: 2, share: 0.2 },
    enrollment: { kind: 'admin', email: ADMIN.email, password: ADMIN.password, group: GROUP },
    signal: stop.signal,
  });
  const until = Date.now() + 90_000;
  for (;;) {
    const list = await devices();
    if (list.length === DEVICES && list.every((d) => d.status === 'online' && d.app?.versionCode === 1)) break;
    if (Date.now() > until) throw new Error(`the fleet did not come up: ${list.length} devices`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  // the group's policy names A as the agent's release; every device applies it and runs A: compliant
  const { id } = await groupPolicy();
  const put = await api('PUT', `/api/v1/admin/groups/${id}/policy`, { agentRelease: { releaseId: releases.v1 } });
  expect(put.status, JSON.stringify(put.json)).toBe(200);
  await converge({ compliant: DEVICES, pending: 0, failed: 0 }, 30_000);
}, 150_000);

afterAll(async () => {
  stop.abort();
  await fleet;
  await server?.stop();
});

describe('staged rollouts gated on app health, 200 simulated devices', () => {
  it('refuses a bad rollout with a clear code and changes nothing', async () => {
    const base = { name: 'bad', group: GROUP, waves: [{ percent: 100 }], soakSec: 1 };
    const down = await api('POST', '/api/v1/admin/rollouts', { ...base, fromReleaseId: releases.v2, toReleaseId: releases.v1 });
    expect([down.status, down.json.error.code]).toEqual([400, 'downgrade_not_allowed']);
    const waves = await api('POST', '/api/v1/admin/rollouts', {
      ...base,
      fromReleaseId: releases.v1,
      toReleaseId: releases.v2,
      waves: [{ percent: 50 }, { percent: 10 }],
    });
    expect([waves.status, waves.json.error.code]).toEqual([400, 'invalid_waves']);
    const group = await api('POST', '/api/v1/admin/rollouts', {
      ...base,
      fromReleaseId: releases.v1,
      toReleaseId: releases.v2,
      group: 'Nowhere',
    });
    expect([group.status, group.json.error.code]).toEqual([404, 'group_not_found']);
    expect((await api('GET', '/api/v1/admin/rollouts')).json.items).toEqual([]);
  });

  it('a release that crashes on 20 % of devices pauses after its first wave, which is rolled back', async () => {
    const created = await api('POST', '/api/v1/admin/rollouts', {
      name: 'crashing 2',
      fromReleaseId: releases.v1,
      toReleaseId: releases.v2,
      group: GROUP,
      waves: [{ percent: 25 }, { percent: 100 }],
      soakSec: 4,
      installTimeoutSec: 60,
      margin: { appDownPct: 2, frozenPct: 5, offlinePct: 10, crashesPerDeviceHour: 1, minUpdatedPct: 90 },
      rollbackOnFailure: true,
      start: true,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json).toMatchObject({ state: 'running', currentWave: 0, devices: DEVICES });
    const { id } = created.json as Rollout;

    const paused = await follow(id, [50, 150], (r) => r.state === 'paused', 60_000);
    const [first, second] = paused.rollout.waves;
    expect(paused.seen).toContain('0:soaking');
    expect(first).toMatchObject({ state: 'failed', updated: 50, failed: 0 });
    expect(first!.verdict!.passed).toBe(false);
    expect(first!.verdict!.wave!.appDownPct).toBeGreaterThan(2);
    expect(first!.verdict!.reasons.join()).toMatch(/app down %/);
    expect(second).toMatchObject({ state: 'pending', pending: 0, updated: 0, rollbackSent: 0 });
    expect(paused.rollout.pausedReason).toMatch(/wave 1 failed its gate/);

    // the wave is sent A again, and its devices report A's versionCode
    const back = await follow(id, [50, 150], (r) => r.waves[0]!.rolledBack === 50, 30_000);
    expect(back.rollout.waves[0]).toMatchObject({ rollbackSent: 50, rolledBack: 50 });
    expect((await devices()).every((d) => d.app?.versionCode === 1 && d.agentVersionCode === 1)).toBe(true);
    // everyone runs A again, which the policy names: all compliant, and the policy was not touched
    expect(await compliance()).toEqual({ compliant: DEVICES, pending: 0, failed: 0 });

    // a failed gate is not resumed by mistake; abort ends it
    const resumed = await api('POST', `/api/v1/admin/rollouts/${id}/resume`, {});
    expect([resumed.status, resumed.json.error.code]).toEqual([409, 'gate_failed']);
    const aborted = await api('POST', `/api/v1/admin/rollouts/${id}/abort`, { reason: 'version 2 crashes' });
    expect([aborted.status, aborted.json.state]).toEqual([200, 'aborted']);

    const audit = (await api('GET', '/api/v1/admin/audit?action=changed_rollout&limit=50')).json.items as { details: { change: string } }[];
    expect(audit.map((a) => a.details.change).sort()).toEqual(['aborted', 'created', 'gate_failed', 'started']);
    expect((await groupPolicy()).policy.document).toEqual({ agentRelease: { releaseId: releases.v1 } });
  }, 120_000);

  it('a healthy release completes all its waves; nothing is installed twice', async () => {
    const rotated = await api('POST', `/api/v1/admin/packages/${PACKAGE}/signer`, {
      signerSha256: SIGNERS['agent-3-other-signer']!.signerSha256,
      reason: 'the test release is signed by the other key',
    });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    releases.v3 = await upload('agent-3-other-signer');
    const created = await api('POST', '/api/v1/admin/rollouts', {
      name: 'healthy 3',
      fromReleaseId: releases.v1,
      toReleaseId: releases.v3,
      group: GROUP,
      waves: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
      soakSec: 3,
      installTimeoutSec: 60,
      margin: { appDownPct: 2, frozenPct: 5, offlinePct: 10, crashesPerDeviceHour: 1, minUpdatedPct: 90 },
      start: true,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const done = await follow(created.json.id, [20, 80, 100], (r) => r.state === 'completed', 90_000);
    expect(done.rollout.waves.map((w) => [w.state, w.updated, w.failed, w.verdict?.passed])).toEqual([
      ['passed', 20, 0, true],
      ['passed', 80, 0, true],
      ['passed', 100, 0, true],
    ]);
    for (const i of [0, 1, 2]) expect(done.seen).toContain(`${i}:soaking`);
    expect((await devices()).every((d) => d.app?.versionCode === 3 && d.agentVersionCode === 3)).toBe(true);

    // the completion saved the group's policy naming B (by the system actor `rollouts`); the devices
    // fetch it, apply it and, running B already, converge to compliant again
    const { policy } = await groupPolicy();
    expect(policy.document).toEqual({ agentRelease: { releaseId: releases.v3 } });
    const saved = (await api('GET', '/api/v1/admin/audit?action=saved_policy&limit=10')).json.items as {
      actor: { type: string; name: string };
      details: { rollout?: string; version: number };
    }[];
    expect(saved.find((a) => a.details.rollout === created.json.id)).toMatchObject({
      actor: { type: 'system', name: 'rollouts' },
      details: { version: policy.version },
    });
    await converge({ compliant: DEVICES, pending: 0, failed: 0 }, 30_000);

    // one INSTALL_APK per device and release: 2 and back to 1 for the first wave of the crashing
    // rollout, 3 for everyone
    const sent = await installs();
    expect(Math.max(...countBy(sent, (c) => `${c.deviceId} ${c.releaseId}`).values())).toBe(1);
    const perRelease = countBy(sent, (c) => c.releaseId);
    expect([perRelease.get(releases.v2!), perRelease.get(releases.v1!), perRelease.get(releases.v3!)]).toEqual([50, 50, DEVICES]);
  }, 150_000);

  it('the crash model picks a fifth of the fleet', () => {
    const share = Array.from({ length: 1000 }, (_, i) => inShare(i, 0.2)).filter(Boolean).length;
    expect(share).toBeGreaterThan(150);
    expect(share).toBeLessThan(250);
  });
});
