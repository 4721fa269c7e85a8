import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Push, PushMessage, PushOutcome } from '../../src/ports/push.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleDevice, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/** Accepts every message and keeps it, so a test sees what a device would receive by push. */
class RecordingPush implements Push {
  readonly available = true;
  readonly sent: PushMessage[] = [];
  async send(messages: PushMessage[]): Promise<PushOutcome[]> {
    this.sent.push(...messages);
    return messages.map((_, i) => ({ ok: true as const, messageId: `m${this.sent.length + i}` }));
  }
}

/**
 * Issue 15 item 3: a command's blast radius is confirmed by count (race-safe), a WIPE to more than
 * one device waits for a second admin, and a command that has not started can be cancelled - the
 * device is told and never runs it.
 */
describe.each(DB_KINDS)('command safety on %s', (kind) => {
  let t: TestApp;
  let push: RecordingPush;
  let operator: string;
  let admin: string;
  let admin2: string;
  const fleet: EnrolledDevice[] = [];

  beforeAll(async () => {
    push = new RecordingPush();
    t = await createTestApp(kind, {}, { push });
    [operator, admin] = [await t.loginAs('operator'), await t.loginAs('admin')];
    const bcrypt = (await import('bcryptjs')).default;
    await t.db.db
      .insertInto('admins')
      .values({ email: 'second@example.com', role: 'admin', name: 'Second', password_hash: await bcrypt.hash('second admin pass 1', 4) })
      .execute();
    admin2 = (await t.request('POST', '/api/v1/admin/login', { body: { email: 'second@example.com', password: 'second admin pass 1' } }))
      .json.token;
    const token = await t.request('POST', '/api/v1/admin/enrollment-tokens', {
      token: admin,
      body: { maxUses: 3, group: 'Lobby', tags: ['unity'] },
    });
    for (let i = 0; i < 4; i++) {
      const enrollmentToken =
        i < 3 ? token.json.token : (await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: {} })).json.token;
      const res = await t.request('POST', '/api/v1/enroll', { body: { enrollmentToken, device: sampleDevice(), fcmToken: `fcm-${i}` } });
      fleet.push(res.json);
    }
  });
  afterAll(() => t.close());

  const send = (body: Record<string, unknown>, token = operator) => t.request('POST', '/api/v1/admin/commands', { token, body });
  const beat = async (device: EnrolledDevice) =>
    (await t.request('POST', '/api/v1/heartbeat', { token: await t.deviceToken(device), body: sampleHeartbeat(t.clock.now()) })).json;
  const report = async (device: EnrolledDevice, id: string, body: Record<string, unknown>) =>
    t.request('POST', `/api/v1/commands/${id}/result`, { token: await t.deviceToken(device), body });
  const commandCount = async () =>
    Number(
      (
        await t.db.db
          .selectFrom('commands')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const get = async (id: string) => (await t.request('GET', `/api/v1/admin/commands/${id}`, { token: operator })).json;
  const ids = (n: number) => fleet.slice(0, n).map((d) => d.deviceId);

  describe('blast radius', () => {
    it('answers 428 with the computed {type, count} for each kind of target, and writes nothing', async () => {
      const before = await commandCount();
      const cases: [Record<string, unknown>, number][] = [
        [{ deviceIds: ids(2) }, 2],
        [{ group: 'Lobby' }, 3],
        [{ tag: 'unity' }, 3],
        [{ all: true }, 4],
      ];
      for (const [target, count] of cases) {
        for (const type of ['REBOOT', 'LOCK', 'CLEAR_APP_DATA', 'RELAUNCH_APP']) {
          const res = await send({ type, ...target });
          expect(res.status, JSON.stringify(target)).toBe(428);
          expect(res.json.error).toMatchObject({ code: 'confirmation_required', confirm: { type, count } });
        }
      }
      expect(await commandCount()).toBe(before);
    });

    it('sends once the confirm matches: the 428 body resent as is goes through', async () => {
      const first = await send({ type: 'LOCK', tag: 'unity' });
      const sent = await send({ type: 'LOCK', tag: 'unity', confirm: first.json.error.confirm });
      expect([sent.status, sent.json.count]).toEqual([201, 3]);
    });

    it('refuses a wrong count or a wrong type with 428 and the real count, writing nothing', async () => {
      const before = await commandCount();
      const wrongCount = await send({ type: 'REBOOT', all: true, confirm: { type: 'REBOOT', count: 3 } });
      expect([wrongCount.status, wrongCount.json.error.confirm]).toEqual([428, { type: 'REBOOT', count: 4 }]);
      const wrongType = await send({ type: 'REBOOT', all: true, confirm: { type: 'PING', count: 4 } });
      expect(wrongType.status).toBe(428);
      expect(await commandCount()).toBe(before);
    });

    it('is race-safe: a device joining the group between the 428 and the resend makes it 428 again', async () => {
      const asked = await send({ type: 'REBOOT', group: 'Lobby' });
      expect(asked.json.error.confirm.count).toBe(3);
      await t.request('PATCH', `/api/v1/admin/devices/${fleet[3]!.deviceId}`, { token: operator, body: { group: 'Lobby' } });
      const before = await commandCount();
      const stale = await send({ type: 'REBOOT', group: 'Lobby', confirm: asked.json.error.confirm });
      expect([stale.status, stale.json.error.confirm.count]).toEqual([428, 4]);
      expect(stale.json.error.message).toContain('not 3');
      expect(await commandCount()).toBe(before);
      await t.request('PATCH', `/api/v1/admin/devices/${fleet[3]!.deviceId}`, { token: operator, body: { group: null } });
    });

    it('exempts PING, and a command for one device needs no confirm', async () => {
      expect((await send({ type: 'PING', all: true })).status).toBe(201);
      expect((await send({ type: 'PING', deviceIds: ids(3) })).status).toBe(201);
      expect((await send({ type: 'REBOOT', deviceIds: [fleet[0]!.deviceId] })).status).toBe(201);
      // the same id twice is one device
      expect((await send({ type: 'LOCK', deviceIds: [fleet[1]!.deviceId, fleet[1]!.deviceId] })).status).toBe(201);
    });

    it('still refuses unknown devices (404) and empty selections (400) before asking to confirm', async () => {
      expect((await send({ type: 'REBOOT', deviceIds: [fleet[0]!.deviceId, '7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6'] })).status).toBe(404);
      expect((await send({ type: 'REBOOT', tag: 'nobody' })).json.error.code).toBe('no_devices');
    });
  });

  describe('WIPE approval by a second admin', () => {
    const audit = async (action: string) =>
      (await t.request('GET', `/api/v1/admin/audit?action=${action}`, { token: admin })).json.items as {
        actor: { name: string };
        target: { id: string };
      }[];

    it('keeps a single-device WIPE as it was: admins only, sent at once', async () => {
      expect((await send({ type: 'WIPE', deviceIds: [fleet[3]!.deviceId] })).status).toBe(403);
      expect((await send({ type: 'WIPE', deviceIds: [fleet[3]!.deviceId] }, admin)).status).toBe(201);
    });

    it('turns a confirmed WIPE for several devices into a pending request; the requester cannot approve it; another admin can', async () => {
      const before = await commandCount();
      expect((await send({ type: 'WIPE', group: 'Lobby' }, admin)).json.error.confirm).toEqual({ type: 'WIPE', count: 3 });
      const requested = await send({ type: 'WIPE', group: 'Lobby', confirm: { type: 'WIPE', count: 3 } }, admin);
      expect(requested.status).toBe(202);
      const { approval } = requested.json;
      expect(approval).toMatchObject({
        type: 'WIPE',
        count: 3,
        status: 'pending',
        target: 'group Lobby',
        requestedBy: { email: 'admin@example.com' },
      });
      expect(await commandCount()).toBe(before);

      const self = await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/approve`, { token: admin });
      expect([self.status, self.json.error.message]).toEqual([403, 'another admin must approve your own request']);
      expect((await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/approve`, { token: operator })).status).toBe(403);
      const pending = await t.request('GET', '/api/v1/admin/command-approvals?status=pending', { token: operator });
      expect(pending.json.items.map((a: { id: string }) => a.id)).toContain(approval.id);

      const approved = await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/approve`, { token: admin2 });
      expect(approved.json).toMatchObject({ status: 'approved', decidedBy: { email: 'second@example.com' } });
      const batch = await t.request('GET', `/api/v1/admin/commands?batchId=${approved.json.batchId}`, { token: operator });
      expect(batch.json.items.map((c: { deviceId: string }) => c.deviceId).sort()).toEqual(ids(3).sort());
      expect((await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/approve`, { token: admin2 })).status).toBe(409);

      expect(
        (await audit('requested_command_approval')).some((e) => e.target.id === approval.id && e.actor.name === 'admin@example.com'),
      ).toBe(true);
      expect((await audit('approved_command')).some((e) => e.target.id === approval.id && e.actor.name === 'second@example.com')).toBe(
        true,
      );
      expect((await audit('sent_command')).some((e) => e.target.id === approved.json.batchId)).toBe(true);
    });

    it('guards RELEASE_OWNER like WIPE: admins only, confirmed by count, a second admin beyond one device', async () => {
      expect((await send({ type: 'RELEASE_OWNER', deviceIds: [fleet[3]!.deviceId] })).json.error.code).toBe('forbidden');
      const before = await commandCount();
      expect((await send({ type: 'RELEASE_OWNER', group: 'Lobby' }, admin)).json.error.confirm).toEqual({
        type: 'RELEASE_OWNER',
        count: 3,
      });
      const requested = await send({ type: 'RELEASE_OWNER', group: 'Lobby', confirm: { type: 'RELEASE_OWNER', count: 3 } }, admin);
      expect(requested.status).toBe(202);
      expect(requested.json.approval).toMatchObject({ type: 'RELEASE_OWNER', count: 3, status: 'pending' });
      expect(await commandCount()).toBe(before);
      const rejected = await t.request('POST', `/api/v1/admin/command-approvals/${requested.json.approval.id}/reject`, {
        token: admin2,
        body: { reason: 'not these' },
      });
      expect(rejected.json.status).toBe('rejected');
      const single = await send({ type: 'RELEASE_OWNER', deviceIds: [fleet[3]!.deviceId] }, admin);
      expect(single.status).toBe(201);
      expect((await beat(fleet[3]!)).commands.map((c: { type: string }) => c.type)).toContain('RELEASE_OWNER');
    });

    it('lets another admin reject a request: nothing is sent, and it cannot be approved after', async () => {
      const before = await commandCount();
      const { approval } = (await send({ type: 'WIPE', deviceIds: ids(2), confirm: { type: 'WIPE', count: 2 } }, admin)).json;
      const rejected = await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/reject`, {
        token: admin2,
        body: { reason: 'wrong devices' },
      });
      expect(rejected.json).toMatchObject({ status: 'rejected', reason: 'wrong devices' });
      expect((await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/approve`, { token: admin2 })).status).toBe(409);
      expect(await commandCount()).toBe(before);
      expect((await audit('rejected_command')).some((e) => e.target.id === approval.id)).toBe(true);
    });

    it('expires a request after an hour: 410 to approve, expired (audited) by the tick', async () => {
      const { approval } = (await send({ type: 'WIPE', deviceIds: ids(2), confirm: { type: 'WIPE', count: 2 } }, admin)).json;
      t.clock.advance(3600_000 + 1000);
      admin2 = (await t.request('POST', '/api/v1/admin/login', { body: { email: 'second@example.com', password: 'second admin pass 1' } }))
        .json.token;
      const late = await t.request('POST', `/api/v1/admin/command-approvals/${approval.id}/approve`, { token: admin2 });
      expect([late.status, late.json.error.code]).toEqual([410, 'approval_expired']);
      await t.app.services.commands.expire();
      const all = await t.request('GET', '/api/v1/admin/command-approvals', { token: admin2 });
      expect(all.json.items.find((a: { id: string }) => a.id === approval.id).status).toBe('expired');
      expect((await audit('expired_command_approval')).some((e) => e.target.id === approval.id)).toBe(true);
      admin = await t.loginAs('admin');
      operator = await t.loginAs('operator');
    });
  });

  describe('cancel', () => {
    it('cancels a queued command: never handed out, audited', async () => {
      const id = (
        await send({ type: 'REBOOT', deviceIds: [fleet[0]!.deviceId], notBefore: new Date(t.clock.now().getTime() + 60_000).toISOString() })
      ).json.commands[0].id;
      const cancelled = await t.request('POST', `/api/v1/admin/commands/${id}/cancel`, { token: operator });
      expect(cancelled.json).toEqual({ cancelled: 1, ids: [id] });
      t.clock.advance(120_000);
      const hb = await beat(fleet[0]!);
      expect(hb.commands.map((c: { cid: string }) => c.cid)).not.toContain(id);
      expect(hb.cancelled).not.toContain(id); // never handed out: nothing to tell
      expect((await get(id)).status).toBe('cancelled');
      const audit = await t.request('GET', '/api/v1/admin/audit?action=cancelled_command', { token: admin });
      expect(audit.json.items.some((e: { target: { id: string } }) => e.target.id === id)).toBe(true);
    });

    it('tells the device about a dispatched command by heartbeat and push until it answers "cancelled"', async () => {
      const device = fleet[1]!;
      const id = (await send({ type: 'CLEAR_APP_DATA', deviceIds: [device.deviceId] })).json.commands[0].id;
      expect((await beat(device)).commands.map((c: { cid: string }) => c.cid)).toContain(id);
      push.sent.length = 0;
      expect((await t.request('POST', `/api/v1/admin/commands/${id}/cancel`, { token: operator })).json.cancelled).toBe(1);
      // the push: a signed CANCEL envelope naming the command
      const msg = push.sent.find((m) => m.data.cid === id)!;
      expect(msg.data).toMatchObject({ type: 'CANCEL', did: device.deviceId, params: '{}' });
      const input = ['mdm-cmd-v1', msg.data.cid, msg.data.did, 'CANCEL', '{}', msg.data.iat, msg.data.exp].join('\n');
      expect(createHmac('sha256', Buffer.from(device.hmacKey, 'base64')).update(input).digest('base64url')).toBe(msg.data.sig);

      const hb = await beat(device);
      expect(hb.commands.map((c: { cid: string }) => c.cid)).not.toContain(id);
      expect(hb.cancelled).toEqual([id]);
      expect((await report(device, id, { status: 'cancelled' })).json).toEqual({ id, status: 'cancelled' });
      expect((await beat(device)).cancelled).toEqual([]);
      expect(await get(id)).toMatchObject({ status: 'cancelled', deviceReport: 'cancelled' });
    });

    it('records a late result on a cancelled command without flipping its status', async () => {
      const device = fleet[2]!;
      const id = (await send({ type: 'LOCK', deviceIds: [device.deviceId] })).json.commands[0].id;
      await beat(device);
      await t.request('POST', `/api/v1/admin/commands/${id}/cancel`, { token: operator });
      const late = await report(device, id, { status: 'succeeded', output: 'locked before the cancel came' });
      expect(late.json).toEqual({ id, status: 'cancelled' });
      expect(await get(id)).toMatchObject({ status: 'cancelled', deviceReport: 'succeeded', output: 'locked before the cancel came' });
      expect((await beat(device)).cancelled).not.toContain(id); // it answered
      const audit = await t.request('GET', `/api/v1/admin/audit?action=finished_command&deviceId=${device.deviceId}`, { token: admin });
      expect(audit.json.items[0].details).toMatchObject({ status: 'succeeded', afterCancel: true });
    });

    it('refuses to cancel a started or finished command (409), an unknown one (404); twice is a no-op', async () => {
      const device = fleet[3]!;
      const [a, b] = [
        (await send({ type: 'LOCK', deviceIds: [device.deviceId] })).json.commands[0].id,
        (await send({ type: 'RELAUNCH_APP', deviceIds: [device.deviceId] })).json.commands[0].id,
      ];
      await beat(device);
      await report(device, a, { status: 'delivered' });
      await report(device, b, { status: 'succeeded' });
      expect((await t.request('POST', `/api/v1/admin/commands/${a}/cancel`, { token: operator })).json.error.code).toBe('command_started');
      expect((await t.request('POST', `/api/v1/admin/commands/${b}/cancel`, { token: operator })).json.error.code).toBe('command_finished');
      expect(
        (await t.request('POST', '/api/v1/admin/commands/7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6/cancel', { token: operator })).status,
      ).toBe(404);
      const c = (await send({ type: 'LOCK', deviceIds: [device.deviceId] })).json.commands[0].id;
      expect((await t.request('POST', `/api/v1/admin/commands/${c}/cancel`, { token: operator })).json.cancelled).toBe(1);
      expect((await t.request('POST', `/api/v1/admin/commands/${c}/cancel`, { token: operator })).json).toEqual({ cancelled: 0, ids: [] });
      // a device reporting "cancelled" on a command that was not is refused
      const d = (await send({ type: 'LOCK', deviceIds: [device.deviceId] })).json.commands[0].id;
      expect((await report(device, d, { status: 'cancelled' })).json.error.code).toBe('not_cancelled');
    });

    it('cancels what has not started in a batch and leaves the rest', async () => {
      const sent = await send({ type: 'RELAUNCH_APP', deviceIds: ids(3), confirm: { type: 'RELAUNCH_APP', count: 3 } });
      const started = sent.json.commands.find((c: { deviceId: string }) => c.deviceId === fleet[0]!.deviceId).id;
      await beat(fleet[0]!);
      await report(fleet[0]!, started, { status: 'delivered' });
      const res = await t.request('POST', `/api/v1/admin/command-batches/${sent.json.batchId}/cancel`, { token: operator });
      expect(res.json.cancelled).toBe(2);
      expect((await get(started)).status).toBe('delivered');
      expect(
        (await t.request('POST', '/api/v1/admin/command-batches/7d9f2a1e-3b4c-4d5e-8f60-718293a4b5c6/cancel', { token: operator })).status,
      ).toBe(404);
    });
  });
});
