import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/** Checks an envelope the way a device does, with the key from its enrollment (independent of the signer). */
function verify(envelope: Record<string, string>, device: EnrolledDevice) {
  const input = ['mdm-cmd-v1', envelope.cid, envelope.did, envelope.type, envelope.params, envelope.iat, envelope.exp].join('\n');
  return createHmac('sha256', Buffer.from(device.hmacKey, 'base64')).update(input).digest('base64url') === envelope.sig;
}

describe.each(DB_KINDS)('commands on %s', (kind) => {
  let t: TestApp;
  let operator: string;
  let admin: string;
  let viewer: string;
  const fleet: EnrolledDevice[] = [];

  beforeAll(async () => {
    t = await createTestApp(kind);
    [operator, admin, viewer] = [await t.loginAs('operator'), await t.loginAs('admin'), await t.loginAs('viewer')];
    const token = await t.request('POST', '/api/v1/admin/enrollment-tokens', {
      token: admin,
      body: { maxUses: 3, group: 'Lobby', tags: ['floor-1', 'unity'] },
    });
    for (let i = 0; i < 5; i++) {
      if (i < 3) {
        const res = await t.request('POST', '/api/v1/enroll', {
          body: {
            enrollmentToken: token.json.token,
            device: { model: 'Tab', manufacturer: 'Acme', androidVersion: '13', sdkInt: 33, agentVersion: '1' },
          },
        });
        fleet.push(res.json);
      } else fleet.push(await t.enrollDevice());
    }
  });
  afterAll(() => t.close());

  const send = (body: Record<string, unknown>, token = operator) => t.request('POST', '/api/v1/admin/commands', { token, body });
  const beat = async (device: EnrolledDevice) =>
    t.request('POST', '/api/v1/heartbeat', { token: await t.deviceToken(device), body: sampleHeartbeat(t.clock.now()) });
  const report = async (device: EnrolledDevice, id: string, body: Record<string, unknown>) =>
    t.request('POST', `/api/v1/commands/${id}/result`, { token: await t.deviceToken(device), body });

  it("audits a device's final report with the command's type (before: a WIPE that succeeded left no audit entry)", async () => {
    const res = await send({ type: 'RELAUNCH_APP', deviceIds: [fleet[1]!.deviceId] });
    const id = res.json.commands[0].id as string;
    expect((await report(fleet[1]!, id, { status: 'delivered' })).status).toBe(200);
    expect((await report(fleet[1]!, id, { status: 'failed', error: 'app not installed' })).status).toBe(200);
    expect((await report(fleet[1]!, id, { status: 'failed', error: 'app not installed' })).status).toBe(200); // repeated: once
    const rows = await t.db.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'finished_command')
      .where('target_id', '=', id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_type: 'device',
      device_id: fleet[1]!.deviceId,
      ip: '192.0.2.10',
      details: { type: 'RELAUNCH_APP', status: 'failed', error: 'app not installed' },
    });
  });

  it('creates one queued command per device, audited, and hands it out signed in the next heartbeat', async () => {
    const res = await send({ type: 'RELAUNCH_APP', deviceIds: [fleet[0]!.deviceId] });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ count: 1, commands: [{ deviceId: fleet[0]!.deviceId, type: 'RELAUNCH_APP', status: 'queued' }] });
    const id = res.json.commands[0].id;
    await t.app.adapters.localQueue?.drain(); // the in-process queue has run the dispatcher

    const hb = await beat(fleet[0]!);
    expect(hb.json.commands).toHaveLength(1);
    const envelope = hb.json.commands[0];
    expect(envelope).toMatchObject({ v: '1', cid: id, did: fleet[0]!.deviceId, type: 'RELAUNCH_APP', params: '{}' });
    expect(Number(envelope.exp) - Number(envelope.iat)).toBe(86_400);
    expect(verify(envelope, fleet[0]!)).toBe(true);
    expect(verify(envelope, fleet[1]!)).toBe(false);

    const detail = await t.request('GET', `/api/v1/admin/commands/${id}`, { token: viewer });
    // no FCM here: the dispatcher records that push is unavailable, and the heartbeat delivered it
    expect(detail.json).toMatchObject({
      status: 'dispatched',
      dispatches: [
        { channel: 'fcm', outcome: 'push_unavailable' },
        { channel: 'heartbeat', outcome: 'sent' },
      ],
    });
    // not acknowledged yet: the next heartbeat carries it again; other devices get nothing
    expect((await beat(fleet[0]!)).json.commands.map((c: { cid: string }) => c.cid)).toEqual([id]);
    expect((await beat(fleet[1]!)).json.commands).toEqual([]);

    const audit = await t.request('GET', `/api/v1/admin/audit?deviceId=${fleet[0]!.deviceId}&action=sent_command`, { token: viewer });
    expect(audit.json.items[0]).toMatchObject({
      target: { type: 'command_batch', id: res.json.batchId },
      details: { type: 'RELAUNCH_APP', count: 1 },
    });
  });

  it('moves through delivered to a final state on the device reports, idempotently', async () => {
    const { json } = await send({ type: 'PING', deviceIds: [fleet[1]!.deviceId] });
    const id = json.commands[0].id;
    expect((await report(fleet[1]!, id, { status: 'delivered' })).json).toEqual({ id, status: 'delivered' });
    expect((await beat(fleet[1]!)).json.commands).toEqual([]);
    expect((await report(fleet[1]!, id, { status: 'succeeded', output: 'pong' })).json).toEqual({ id, status: 'succeeded' });
    expect((await report(fleet[1]!, id, { status: 'succeeded', output: 'pong' })).status).toBe(200);
    expect((await report(fleet[1]!, id, { status: 'delivered' })).json.status).toBe('succeeded');
    const conflict = await report(fleet[1]!, id, { status: 'failed' });
    expect([conflict.status, conflict.json.error.code]).toEqual([409, 'command_finished']);
    const detail = await t.request('GET', `/api/v1/admin/commands/${id}`, { token: viewer });
    expect(detail.json).toMatchObject({
      status: 'succeeded',
      output: 'pong',
      deliveredAt: expect.any(String),
      completedAt: expect.any(String),
    });
  });

  it('settles two outcomes reported at once: one wins, the other is refused; a late delivered leaves an expired command expired', async () => {
    const device = fleet[4]!;
    const id = (await send({ type: 'PING', deviceIds: [device.deviceId] })).json.commands[0].id;
    const answers = await Promise.all([
      report(device, id, { status: 'succeeded', output: 'pong' }),
      report(device, id, { status: 'failed', error: 'x' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const winner = answers.find((a) => a.status === 200)!.json.status;
    expect((await t.request('GET', `/api/v1/admin/commands/${id}`, { token: viewer })).json.status).toBe(winner);

    const short = (await send({ type: 'PING', deviceIds: [device.deviceId], expiresInSec: 60 })).json.commands[0].id;
    t.clock.advance(61_000);
    await t.app.tick();
    expect((await report(device, short, { status: 'delivered' })).json).toEqual({ id: short, status: 'expired' });
    expect((await t.request('GET', `/api/v1/admin/commands/${short}`, { token: viewer })).json).toMatchObject({
      status: 'expired',
      deliveredAt: null,
    });
  });

  it("refuses a device reporting on, or receiving, another device's command", async () => {
    const { json } = await send({ type: 'LOCK', deviceIds: [fleet[2]!.deviceId] });
    const id = json.commands[0].id;
    expect((await report(fleet[3]!, id, { status: 'succeeded' })).status).toBe(404);
    expect((await report(fleet[3]!, '7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6', { status: 'succeeded' })).status).toBe(404);
    expect((await beat(fleet[3]!)).json.commands).toEqual([]);
    expect((await t.request('GET', `/api/v1/admin/commands/${id}`, { token: viewer })).json.status).toBe('queued');
  });

  it('validates params per type', async () => {
    const cases: [Record<string, unknown>, string][] = [
      // installs name a catalog release; the free-URL form is gone (the catalog's own test covers the rest)
      [{ type: 'INSTALL_APK', params: { url: 'https://x.example/a.apk', sha256: 'a'.repeat(64), versionCode: 3 } }, 'releaseId'],
      [{ type: 'INSTALL_APK', params: { releaseId: 'not-a-uuid' } }, 'releaseId'],
      [{ type: 'INSTALL_APK', params: {} }, 'releaseId'],
      [{ type: 'REBOOT', params: { force: true } }, 'REBOOT'],
      [{ type: 'SET_CONFIG', params: {} }, 'at least one'],
      [{ type: 'SET_CONFIG', params: { heartbeatIntervalSec: 1 } }, 'heartbeatIntervalSec'],
    ];
    for (const [body, mention] of cases) {
      const res = await send({ ...body, deviceIds: [fleet[4]!.deviceId] });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.message).toContain(mention);
    }
    const ok = await send({ type: 'SET_CONFIG', params: { heartbeatIntervalSec: 60 }, deviceIds: [fleet[4]!.deviceId] });
    expect(ok.status).toBe(201);
    const envelope = (await beat(fleet[4]!)).json.commands.find((c: { type: string }) => c.type === 'SET_CONFIG');
    expect(envelope.params).toBe('{"heartbeatIntervalSec":60}');
  });

  it('only admins wipe; beyond one device a command needs confirm {type, count}; viewers send nothing', async () => {
    expect((await send({ type: 'WIPE', deviceIds: [fleet[4]!.deviceId] })).status).toBe(403);
    expect((await send({ type: 'PING', deviceIds: [fleet[4]!.deviceId] }, viewer)).status).toBe(403);
    const unconfirmed = await send({ type: 'REBOOT', all: true });
    expect([unconfirmed.status, unconfirmed.json.error.code]).toEqual([428, 'confirmation_required']);
    expect(unconfirmed.json.error.confirm).toEqual({ type: 'REBOOT', count: 5 });
    expect((await send({ type: 'REBOOT', group: 'Lobby', confirm: { type: 'WIPE', count: 3 } })).status).toBe(428);
    const all = await send({ type: 'REBOOT', all: true, confirm: { type: 'REBOOT', count: 5 } });
    expect([all.status, all.json.count]).toEqual([201, 5]);
    expect((await send({ type: 'PING', deviceIds: [fleet[0]!.deviceId], group: 'Lobby' })).status).toBe(400);
  });

  it('targets groups and tags as they are now, and refuses empty or unknown selections', async () => {
    const tagged = await send({ type: 'PING', tag: 'floor-1' });
    expect(tagged.json.commands.map((c: { deviceId: string }) => c.deviceId).sort()).toEqual(
      fleet
        .slice(0, 3)
        .map((d) => d.deviceId)
        .sort(),
    );
    const moved = await t.request('PATCH', `/api/v1/admin/devices/${fleet[4]!.deviceId}`, {
      token: operator,
      body: { group: 'Lobby', tags: ['floor-2'], name: 'Entrance kiosk' },
    });
    expect(moved.json).toMatchObject({
      name: 'Entrance kiosk',
      displayName: 'Entrance kiosk',
      group: { name: 'Lobby' },
      tags: ['floor-2'],
    });
    expect((await send({ type: 'PING', group: 'Lobby' })).json.count).toBe(4);
    expect((await send({ type: 'PING', tag: 'nobody-has-this' })).json.error.code).toBe('no_devices');
    const unknown = await send({ type: 'PING', deviceIds: [fleet[0]!.deviceId, '7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6'] });
    expect(unknown.status).toBe(404);
    const groups = await t.request('GET', '/api/v1/admin/groups', { token: viewer });
    expect(groups.json.items.find((g: { name: string }) => g.name === 'Lobby').deviceCount).toBe(4);
    const list = await t.request('GET', '/api/v1/admin/devices?tag=floor-2', { token: viewer });
    expect(list.json.items.map((d: { id: string }) => d.id)).toEqual([fleet[4]!.deviceId]);
  });

  it('holds a command until notBefore and expires it after expiresInSec', async () => {
    const device = fleet[3]!;
    const later = new Date(t.clock.now().getTime() + 600_000).toISOString();
    const held = (await send({ type: 'LOCK', deviceIds: [device.deviceId], notBefore: later })).json.commands[0].id;
    const short = (await send({ type: 'CLEAR_APP_DATA', deviceIds: [device.deviceId], expiresInSec: 60 })).json.commands[0].id;
    expect((await beat(device)).json.commands.map((c: { cid: string }) => c.cid)).toContain(short);
    expect((await beat(device)).json.commands.map((c: { cid: string }) => c.cid)).not.toContain(held);
    t.clock.advance(601_000);
    const cids = (await beat(device)).json.commands.map((c: { cid: string }) => c.cid);
    expect(cids).toContain(held);
    expect(cids).not.toContain(short);
    await t.app.tick();
    expect((await t.request('GET', `/api/v1/admin/commands/${short}`, { token: viewer })).json.status).toBe('expired');
    // a device that did act on it in time still reports the outcome
    expect((await report(device, short, { status: 'succeeded' })).json.status).toBe('succeeded');
  });

  it('lists commands by device and status with a cursor', async () => {
    const device = fleet[0]!.deviceId;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.request('GET', `/api/v1/admin/commands?deviceId=${device}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: viewer,
      });
      expect(res.status).toBe(200);
      for (const c of res.json.items) {
        expect(c.deviceId).toBe(device);
        seen.push(c.id);
      }
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(new Set(seen).size).toBe(seen.length);
    const queued = await t.request('GET', '/api/v1/admin/commands?status=queued', { token: viewer });
    expect(queued.json.items.every((c: { status: string }) => c.status === 'queued')).toBe(true);
  });
});
