import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiskBlobStore } from '../../src/adapters/local/disk-blob-store.js';
import { createStandaloneApp } from '../../src/standalone/adapters.js';
import { SCENARIO_DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, WebhookReceiver } from '../helpers/receivers.js';

/**
 * Rollouts through the API and the tick, on a frozen clock: the catalog fixtures agent-1 and agent-2
 * (the agent package, versions 1 and 2) play A and B; devices say what they run in their heartbeats.
 * The agent package's versionCode is the heartbeat's `agentVersionCode`; `app()` is a device whose
 * kiosk app is the agent's own package, so both say the same.
 */
const dir = new URL('../../../docs/vectors/apk/', import.meta.url);
const apk = (name: string) => readFileSync(new URL(`${name}.apk`, dir));
const PACKAGE = 'dev.fleetmdm.agent';
const app = (versionCode: number, up = true) => ({
  app: { package: PACKAGE, running: up, foreground: up, versionName: String(versionCode), versionCode, lastFrameAgeMs: 16 },
  agentVersionCode: versionCode,
});
/** A device whose kiosk app is another package: only `agentVersionCode` says which agent it runs. */
const agent = (versionCode: number | undefined) => (versionCode === undefined ? {} : { agentVersionCode: versionCode });

describe.each(SCENARIO_DB_KINDS)('rollouts on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let discord: WebhookReceiver;
  let devices: EnrolledDevice[];
  const ids: Record<string, string> = {};
  const devicesOnB = new Set<string>();

  beforeAll(async () => {
    discord = await new WebhookReceiver().start();
  });
  afterAll(() => discord.stop());
  beforeEach(async () => {
    t = await createTestApp(kind, { ...LOOPBACK_CHANNELS, METRICS_TOKEN: 'rollout-metrics-token-0123456789' });
    admin = await t.loginAs('admin');
    discord.received.length = 0;
    devicesOnB.clear();
    await t.request('PUT', '/api/v1/admin/settings/alerts', {
      token: admin,
      body: { channels: { discord: { enabled: true, webhookUrl: discord.url } } },
    });
    for (const name of ['agent-1', 'agent-2', 'kiosk-10']) {
      const res = await t.request('POST', '/api/v1/admin/releases', {
        token: admin,
        rawBody: apk(name),
        headers: { 'content-type': 'application/vnd.android.package-archive' },
      });
      ids[name] = res.json.id;
    }
    devices = [];
    for (let i = 0; i < 6; i++) devices.push(await t.enrollDevice({ serial: `R-${i}` }));
    await beatAll(() => app(1));
  });
  afterEach(() => t.close());

  const beat = async (d: EnrolledDevice, body: Record<string, unknown>) => {
    const res = await t.request('POST', '/api/v1/heartbeat', { token: await t.deviceToken(d), body: sampleHeartbeat(t.clock.now(), body) });
    expect(res.status).toBe(200);
  };
  const beatAll = async (body: (d: EnrolledDevice) => Record<string, unknown>) => {
    for (const d of devices) await beat(d, body(d));
  };
  const create = (body: Record<string, unknown>, token = admin) =>
    t.request('POST', '/api/v1/admin/rollouts', {
      token,
      body: {
        name: 'kiosk 2',
        fromReleaseId: ids['agent-1'],
        toReleaseId: ids['agent-2'],
        waves: [{ count: 2 }, { count: 4 }],
        soakSec: 60,
        ...body,
      },
    });
  const get = async (id: string) => (await t.request('GET', `/api/v1/admin/rollouts/${id}`, { token: admin })).json;
  const act = (id: string, verb: string, token = admin) => t.request('POST', `/api/v1/admin/rollouts/${id}/${verb}`, { token, body: {} });
  const installs = () => t.db.db.selectFrom('commands').select(['device_id', 'params']).where('type', '=', 'INSTALL_APK').execute();
  const tick = async (sec = 5) => {
    t.clock.advance(sec * 1000);
    await t.app.tick();
  };
  const putPolicy = async (path: string, body: Record<string, unknown>) => {
    const res = await t.request('PUT', path, { token: admin, body });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return res.json;
  };
  const policyAudit = () =>
    t.db.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_name', 'target_id', 'details'])
      .where('action', '=', 'saved_policy')
      .orderBy('id')
      .execute();

  it('refuses bad rollouts with a clear code and writes nothing', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ fromReleaseId: ids['agent-2'], toReleaseId: ids['agent-1'] }, 400, 'downgrade_not_allowed'],
      [{ toReleaseId: ids['agent-1'] }, 400, 'same_version'],
      [{ toReleaseId: ids['kiosk-10'] }, 400, 'package_mismatch'],
      [{ toReleaseId: '00000000-0000-4000-8000-000000000000' }, 404, 'release_not_found'],
      [{ group: 'Nowhere' }, 404, 'group_not_found'],
      [{ waves: [{ percent: 50 }, { percent: 20 }] }, 400, 'invalid_waves'],
      [{ waves: [{ percent: 50 }, { count: 20 }] }, 400, 'invalid_waves'],
      [{ waves: [] }, 400, 'invalid_request'],
      [{ soakSec: 0 }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await create(body);
      expect([res.status, res.json.error.code], JSON.stringify(body)).toEqual([status, code]);
    }
    await t.request('POST', `/api/v1/admin/releases/${ids['agent-2']}/bad`, { token: admin, body: { reason: 'crashes' } });
    const bad = await create({});
    expect([bad.status, bad.json.error.code]).toEqual([409, 'release_bad']);
    const viewer = await t.loginAs('viewer');
    expect((await create({}, viewer)).status).toBe(403);
    expect(await t.db.db.selectFrom('rollouts').selectAll().execute()).toEqual([]);
    expect(await t.db.db.selectFrom('audit_log').select('id').where('action', '=', 'changed_rollout').execute()).toEqual([]);
  });

  it('installs once per device, counts a device updated only on its heartbeat, pauses on a failed gate and rolls the wave back', async () => {
    const created = await create({ start: true });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    expect(created.json.waves.map((w: { devices: number }) => w.devices)).toEqual([2, 4]);
    expect((await create({ start: true })).json.error.code).toBe('rollout_exists');

    // three engines at once (three instances whose ticks overlap): the wave starts once, each device is sent B once
    t.clock.advance(5000);
    const engine = t.app.services.rolloutEngine;
    const reports = await Promise.all([engine.tick(), engine.tick(), engine.tick()]);
    expect(reports.reduce((n, r) => n + r.installsSent, 0)).toBe(2);
    await tick(); // a later tick sends nothing again
    const sent = await installs();
    expect(sent).toHaveLength(2);
    const wave = new Set(sent.map((c) => c.device_id));
    expect(sent.every((c) => (JSON.parse(c.params as unknown as string) as { releaseId: string }).releaseId === ids['agent-2'])).toBe(true);
    let r = await get(id);
    expect(r.waves[0]).toMatchObject({ state: 'installing', pending: 2, updated: 0 });

    // the command's own success report does not count; the heartbeat with versionCode 2 does
    const first = devices.find((d) => wave.has(d.deviceId))!;
    const cid = sent.find((c) => c.device_id === first.deviceId)!;
    const token = await t.deviceToken(first);
    const commandId = (await t.db.db.selectFrom('commands').select('id').where('device_id', '=', cid.device_id).executeTakeFirstOrThrow())
      .id;
    await t.request('POST', `/api/v1/commands/${commandId}/result`, { token, body: { status: 'succeeded' } });
    await tick();
    expect((await get(id)).waves[0]).toMatchObject({ state: 'installing', pending: 2, updated: 0 });

    // the wave's devices report B with the app down; the others stay on A and up
    await beatAll((d) => (wave.has(d.deviceId) ? app(2, false) : app(1)));
    await tick();
    r = await get(id);
    expect(r.waves[0]).toMatchObject({ state: 'soaking', pending: 0, updated: 2 });
    await beatAll((d) => (wave.has(d.deviceId) ? app(2, false) : app(1)));
    await tick(30);
    expect((await get(id)).waves[0].state).toBe('soaking');
    await beatAll((d) => (wave.has(d.deviceId) ? app(2, false) : app(1)));
    await tick(31);

    r = await get(id);
    expect(r.state).toBe('paused');
    expect(r.pausedReason).toMatch(/wave 1 failed its gate: app down % 100 > 0 \+ 5/);
    expect(r.waves[0]).toMatchObject({ state: 'failed', updated: 2, failed: 0, rollbackSent: 2 });
    expect(r.waves[0].verdict).toMatchObject({
      passed: false,
      updatedPct: 100,
      wave: { devices: 2, appDownPct: 100 },
      baseline: { devices: 4, appDownPct: 0 },
    });
    expect(r.waves[1]).toMatchObject({ state: 'pending', pending: 0, updated: 0 });
    // the rollback: A with allowDowngrade to the wave only
    const back = (await installs()).filter(
      (c) => (JSON.parse(c.params as unknown as string) as { releaseId: string }).releaseId === ids['agent-1'],
    );
    expect(back.map((c) => c.device_id).sort()).toEqual([...wave].sort());
    expect(back.every((c) => (JSON.parse(c.params as unknown as string) as { allowDowngrade?: boolean }).allowDowngrade === true)).toBe(
      true,
    );
    // the alert went out through the Discord channel
    await tick();
    expect(discord.received.map((m) => JSON.stringify(m.body)).filter((m) => m.includes('Rollout paused'))).toEqual([
      expect.stringContaining('Rollout paused: kiosk 2'),
    ]);
    await beatAll(() => app(1));
    await tick();
    expect((await get(id)).waves[0]).toMatchObject({ rollbackSent: 2, rolledBack: 2 });

    // operators: a failed gate is not resumed; promote overrides it and the next wave goes out
    expect((await act(id, 'resume')).json.error.code).toBe('gate_failed');
    const operator = await t.loginAs('operator');
    const promoted = await act(id, 'promote', operator);
    expect(promoted.status).toBe(200);
    expect(promoted.json).toMatchObject({ state: 'running', currentWave: 1 });
    expect(promoted.json.waves[0]).toMatchObject({ state: 'passed', verdict: { passed: true, promotedBy: 'operator' } });
    await tick();
    expect(
      (await installs()).filter((c) => (JSON.parse(c.params as unknown as string) as { releaseId: string }).releaseId === ids['agent-2']),
    ).toHaveLength(6);
    expect((await act(id, 'pause')).json.state).toBe('paused');
    expect((await act(id, 'pause')).json.error.code).toBe('invalid_state');
    expect((await act(id, 'resume')).json.state).toBe('running');
    expect((await act(id, 'abort')).json.state).toBe('aborted');
    expect((await act(id, 'rollback')).json.error.code).toBe('invalid_state');
    await tick();
    expect(await installs()).toHaveLength(8); // 6 of B, 2 of A: nothing twice

    const audit = await t.request('GET', '/api/v1/admin/audit?action=changed_rollout&limit=50', { token: admin });
    expect(audit.json.items.map((a: { details: { change: string } }) => a.details.change).sort()).toEqual(
      ['aborted', 'created', 'gate_failed', 'paused', 'promoted', 'resumed', 'started'].sort(),
    );
  });

  it('completes a healthy rollout wave by wave', async () => {
    // the fleet default names A as the agent's release: the completion moves it to B, the rollback back to A
    await putPolicy('/api/v1/admin/policies/fleet', { agentRelease: { releaseId: ids['agent-1'] }, timeZone: 'UTC' });
    const { json } = await create({ start: true, soakSec: 10 });
    // a second app over the same database takes every other step: another instance, or this one
    // after a restart - the engine keeps nothing in memory
    const other = createStandaloneApp({
      config: t.config,
      secrets: t.secrets,
      db: t.db.db,
      logger: t.logs,
      clock: t.clock,
      overrides: { blobs: new DiskBlobStore(await mkdtemp(join(tmpdir(), 'rollouts-other-'))) },
    });
    const engines = [t.app.services.rolloutEngine, other.services.rolloutEngine];
    for (let round = 0; round < 20 && (await get(json.id)).state === 'running'; round++) {
      await beatAll((d) => app(devicesOnB.has(d.deviceId) ? 2 : 1));
      t.clock.advance(6000);
      await engines[round % 2]!.tick();
      for (const c of await installs()) devicesOnB.add(c.device_id);
    }
    const otherMetrics = (await other.metrics.render()).text;
    await other.close();
    const r = await get(json.id);
    expect(r.state).toBe('completed');
    expect(r.waves.map((w: { state: string; updated: number }) => [w.state, w.updated])).toEqual([
      ['passed', 2],
      ['passed', 4],
    ]);
    expect(r.waves[1].verdict.baseline.devices).toBe(0); // the last wave has no one left on A
    expect((await act(json.id, 'resume')).json.error.code).toBe('invalid_state');

    // the policy now names B: a new version, saved and audited by the system actor `rollouts`
    const fleet = (await t.request('GET', '/api/v1/admin/policies/fleet', { token: admin })).json;
    expect(fleet.document).toEqual({ agentRelease: { releaseId: ids['agent-2'] }, timeZone: 'UTC' });
    const completedAt = (await t.db.db.selectFrom('rollouts').select('finished_at').executeTakeFirstOrThrow()).finished_at;
    const moved = await t.db.db.selectFrom('policy_versions').selectAll().orderBy('id').execute();
    expect(moved).toHaveLength(2);
    expect(moved[1]).toMatchObject({ scope: 'fleet', created_by: null, created_by_name: 'rollouts' });
    expect(moved[1]!.created_at).toEqual(completedAt); // the same transaction as the completion
    expect((await policyAudit()).map((a) => [a.actor_type, a.actor_name, (a.details as { rollout?: string }).rollout])).toEqual([
      ['admin', 'admin@example.com', undefined],
      ['system', 'rollouts', json.id],
    ]);

    // a completed rollout rolled back by hand: A (a downgrade, so allowed) to every device, once
    const back = await act(json.id, 'rollback');
    expect(back.json).toMatchObject({ state: 'rolled_back' });
    // ... and the rollback of the completed rollout names A again, the same way
    expect((await t.request('GET', '/api/v1/admin/policies/fleet', { token: admin })).json.document).toEqual({
      agentRelease: { releaseId: ids['agent-1'] },
      timeZone: 'UTC',
    });
    expect((await policyAudit()).map((a) => [a.actor_name, (a.details as { version: number }).version])).toEqual([
      ['admin@example.com', moved[0]!.id],
      ['rollouts', moved[1]!.id],
      ['rollouts', moved[1]!.id + 1],
    ]);
    await tick();
    await tick();
    const sentA = (await installs()).filter(
      (c) => (JSON.parse(c.params as unknown as string) as { releaseId: string }).releaseId === ids['agent-1'],
    );
    expect(sentA).toHaveLength(6);
    expect(new Set(sentA.map((c) => c.device_id)).size).toBe(6);
    await beatAll(() => app(1));
    await tick();
    expect((await get(json.id)).waves.map((w: { rollbackSent: number; rolledBack: number }) => [w.rollbackSent, w.rolledBack])).toEqual([
      [2, 2],
      [4, 4],
    ]);
    const metrics = await t.request('GET', '/metrics', { headers: { authorization: 'Bearer rollout-metrics-token-0123456789' } });
    expect(metrics.status).toBe(200);
    expect(metrics.body.toString()).toMatch(/mdm_rollouts\{state="rolled_back"\} 1/);
    // each process counts the gates it decided; the two add up to the two gates
    const passed = (text: string) => Number(/mdm_rollout_gates_total\{verdict="passed"\} (\d+)/.exec(text)![1]);
    expect(passed(metrics.body.toString()) + passed(otherMetrics)).toBe(2);
  });
  it("rolls the agent out by the agent's own versionCode, and moves only the policy of its scope that names A", async () => {
    // six devices whose kiosk app is another package; the agent reports its versionCode (one device's agent does not)
    const old = devices[5]!;
    const beatAgents = (code: (d: EnrolledDevice) => number | undefined) => beatAll((d) => agent(d === old ? undefined : code(d)));
    await beatAgents(() => 1);
    const view = await t.request('GET', `/api/v1/admin/devices/${devices[0]!.deviceId}`, { token: admin });
    expect(view.json).toMatchObject({ agentVersionCode: 1, app: { package: 'com.example.kiosk', versionCode: 230 } });
    expect((await t.request('GET', `/api/v1/admin/devices/${old.deviceId}`, { token: admin })).json.agentVersionCode).toBeNull();
    // a group with a policy naming A, the fleet default naming nothing of the agent: only the group's moves
    let groupId = '';
    for (const d of devices) {
      const moved = await t.request('PATCH', `/api/v1/admin/devices/${d.deviceId}`, { token: admin, body: { group: 'Agents' } });
      expect(moved.status, JSON.stringify(moved.json)).toBe(200);
      groupId = moved.json.group.id;
    }
    const group = { json: { id: groupId } };
    await putPolicy('/api/v1/admin/policies/fleet', { timeZone: 'UTC' });
    await putPolicy(`/api/v1/admin/groups/${group.json.id}/policy`, {
      agentRelease: { releaseId: ids['agent-1'] },
      kioskApp: { releaseId: ids['kiosk-10'] },
    });

    const created = await create({
      name: 'agent 2',
      group: 'Agents',
      waves: [{ percent: 50 }, { percent: 100 }],
      soakSec: 10,
      start: true,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    expect(created.json.devices).toBe(5); // the agent that does not report its versionCode is not eligible
    await tick();
    const sent = new Set((await installs()).map((c) => c.device_id));
    expect(sent.size).toBe(3);
    expect(sent.has(old.deviceId)).toBe(false);

    // a heartbeat naming the agent package as its app at versionCode 2 is not the agent's versionCode
    await beatAll((d) => (d === old ? {} : sent.has(d.deviceId) ? { ...app(2), agentVersionCode: 1 } : agent(1)));
    await tick();
    expect((await get(id)).waves[0]).toMatchObject({ state: 'installing', pending: 3, updated: 0 });
    // the agent's own versionCode 2 is
    await beatAgents((d) => (sent.has(d.deviceId) ? 2 : 1));
    await tick();
    expect((await get(id)).waves[0]).toMatchObject({ state: 'soaking', pending: 0, updated: 3 });
    expect((await t.request('GET', `/api/v1/admin/devices/${[...sent][0]}`, { token: admin })).json.agentVersionCode).toBe(2);

    for (let round = 0; round < 20 && (await get(id)).state === 'running'; round++) {
      await beatAgents((d) => (sent.has(d.deviceId) ? 2 : 1));
      await tick(6);
      for (const c of await installs()) sent.add(c.device_id);
    }
    const r = await get(id);
    expect(r.state).toBe('completed');
    expect(r.waves.map((w: { state: string; updated: number }) => [w.state, w.updated])).toEqual([
      ['passed', 3],
      ['passed', 2],
    ]);
    // the group's policy names B now, its kioskApp untouched; the fleet default did not name A: unchanged
    const policy = (await t.request('GET', `/api/v1/admin/groups/${group.json.id}/policy`, { token: admin })).json;
    expect(policy.document).toEqual({ agentRelease: { releaseId: ids['agent-2'] }, kioskApp: { releaseId: ids['kiosk-10'] } });
    expect((await t.request('GET', '/api/v1/admin/policies/fleet', { token: admin })).json.document).toEqual({ timeZone: 'UTC' });
    expect((await policyAudit()).map((a) => [a.actor_name, a.target_id])).toEqual([
      ['admin@example.com', 'fleet'],
      ['admin@example.com', `g:${group.json.id}`],
      ['rollouts', `g:${group.json.id}`],
    ]);
  });
});
