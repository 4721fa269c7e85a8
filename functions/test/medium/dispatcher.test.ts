import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Push, PushMessage, PushOutcome } from '../../src/ports/push.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleDevice, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/** A stand-in for FCM: answers per token from a script, and records every message it accepted. */
class FakePush implements Push {
  readonly available = true;
  readonly accepted: PushMessage[] = [];
  readonly calls: number[] = [];
  /** token -> outcomes to give on successive attempts (the last repeats); default: success. */
  readonly script = new Map<string, ('ok' | 'unregistered' | 'retryable' | 'failed')[]>();
  #seen = new Map<string, number>();

  plan(token: string, outcomes: ('ok' | 'unregistered' | 'retryable' | 'failed')[]): void {
    this.script.set(token, outcomes);
    this.#seen.delete(token);
  }

  async send(messages: PushMessage[]): Promise<PushOutcome[]> {
    this.calls.push(messages.length);
    await new Promise((r) => setTimeout(r, 5));
    return messages.map((m) => {
      const plan = this.script.get(m.token) ?? ['ok'];
      const n = this.#seen.get(m.token) ?? 0;
      this.#seen.set(m.token, n + 1);
      const kind = plan[Math.min(n, plan.length - 1)]!;
      if (kind === 'ok') {
        this.accepted.push(m);
        return { ok: true, messageId: `projects/demo-mdm/messages/${this.accepted.length}` };
      }
      return { ok: false, kind, error: `fake ${kind}` };
    });
  }
}

describe.each(DB_KINDS)('command dispatch through the Push port on %s', (kind) => {
  let t: TestApp;
  let push: FakePush;
  let operator: string;
  const devices: (EnrolledDevice & { fcm: string })[] = [];

  beforeAll(async () => {
    push = new FakePush();
    t = await createTestApp(kind, { PUSH_BACKOFF_MS: '10' }, { push });
    operator = await t.loginAs('operator');
    const admin = await t.loginAs('admin');
    for (let i = 0; i < 6; i++) {
      const token = (await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: {} })).json.token;
      const fcm = i === 5 ? undefined : `fcm-token-${i}`;
      const res = await t.request('POST', '/api/v1/enroll', {
        body: { enrollmentToken: token, device: sampleDevice(), ...(fcm ? { fcmToken: fcm } : {}) },
      });
      devices.push({ ...res.json, fcm: fcm ?? '' });
    }
  });
  afterAll(() => t.close());

  const send = async (deviceIds: string[], type = 'PING') => {
    // beyond one device, anything but PING carries the confirmed count (command-safety.test.ts)
    const count = new Set(deviceIds).size;
    const confirm = type !== 'PING' && count > 1 ? { confirm: { type, count } } : {};
    const res = await t.request('POST', '/api/v1/admin/commands', { token: operator, body: { type, deviceIds, ...confirm } });
    expect(res.status).toBe(201);
    await t.app.adapters.localQueue!.drain();
    return res.json as { batchId: string; commands: { id: string; deviceId: string }[] };
  };
  const detail = async (id: string) => (await t.request('GET', `/api/v1/admin/commands/${id}`, { token: operator })).json;

  it('pushes each command once, signed for its device, high priority until it expires', async () => {
    const before = push.accepted.length;
    const batch = await send([devices[0]!.deviceId, devices[1]!.deviceId]);
    const sent = push.accepted.slice(before);
    expect(sent.map((m) => m.token).sort()).toEqual(['fcm-token-0', 'fcm-token-1']);
    for (const m of sent) {
      const device = devices.find((d) => d.fcm === m.token)!;
      const d = m.data as Record<string, string>;
      const input = ['mdm-cmd-v1', d.cid, d.did, d.type, d.params, d.iat, d.exp].join('\n');
      expect(createHmac('sha256', Buffer.from(device.hmacKey, 'base64')).update(input).digest('base64url')).toBe(d.sig);
      expect(d.did).toBe(device.deviceId);
      expect(m.ttlSec).toBe(86_400);
    }
    const c = await detail(batch.commands[0]!.id);
    expect(c).toMatchObject({
      status: 'dispatched',
      dispatches: [{ channel: 'fcm', outcome: 'sent', attempt: 1, messageId: expect.any(String) }],
    });
  });

  it('sends nothing twice when the batch is delivered again, even twice at once', async () => {
    const batch = await send([devices[2]!.deviceId]);
    const before = push.accepted.length;
    const again = await Promise.all([
      t.app.services.dispatcher.dispatchBatch(batch.batchId),
      t.app.services.dispatcher.dispatchBatch(batch.batchId),
    ]);
    expect(again.map((r) => r.claimed)).toEqual([0, 0]);
    expect(push.accepted.length).toBe(before);
  });

  it('claims a fresh batch for exactly one of two concurrent dispatchers', async () => {
    push.plan('fcm-token-3', ['ok']);
    const res = await t.request('POST', '/api/v1/admin/commands', {
      token: operator,
      body: { type: 'LOCK', deviceIds: [devices[3]!.deviceId] },
    });
    // the in-process queue dispatches it too: three dispatchers race for one command
    await Promise.all([
      t.app.services.dispatcher.dispatchBatch(res.json.batchId),
      t.app.services.dispatcher.dispatchBatch(res.json.batchId),
      t.app.adapters.localQueue!.drain(),
    ]);
    expect(push.accepted.filter((m) => (m.data as Record<string, string>).cid === res.json.commands[0].id)).toHaveLength(1);
  });

  it('retries quota and server errors with backoff, without resending what went through', async () => {
    push.plan('fcm-token-0', ['retryable', 'retryable', 'ok']);
    push.plan('fcm-token-1', ['ok']);
    const batch = await send([devices[0]!.deviceId, devices[1]!.deviceId], 'RELAUNCH_APP');
    const cids = new Set<string>(batch.commands.map((c) => c.id));
    const delivered = push.accepted.filter((m) => cids.has(m.data.cid ?? ''));
    expect(delivered.map((m) => m.token).sort()).toEqual(['fcm-token-0', 'fcm-token-1']);
    const retried = await detail(batch.commands.find((c) => c.deviceId === devices[0]!.deviceId)!.id);
    expect(retried.dispatches.map((d: { outcome: string; attempt: number }) => `${d.attempt}:${d.outcome}`)).toEqual([
      '1:retrying',
      '2:retrying',
      '3:sent',
    ]);
    const once = await detail(batch.commands.find((c) => c.deviceId === devices[1]!.deviceId)!.id);
    expect(once.dispatches).toHaveLength(1);
  });

  it('marks a dead token invalid and leaves the command for the heartbeat; a new token clears the mark', async () => {
    push.plan('fcm-token-4', ['unregistered']);
    const batch = await send([devices[4]!.deviceId]);
    const c = await detail(batch.commands[0]!.id);
    expect(c).toMatchObject({ status: 'queued', dispatches: [{ outcome: 'unregistered' }] });
    const row = await t.db.db
      .selectFrom('devices')
      .select(['fcm_token_invalid_at'])
      .where('id', '=', devices[4]!.deviceId)
      .executeTakeFirstOrThrow();
    expect(row.fcm_token_invalid_at).not.toBeNull();
    // the next batch does not even try the dead token
    const next = await send([devices[4]!.deviceId]);
    expect((await detail(next.commands[0]!.id)).dispatches).toMatchObject([{ outcome: 'no_token' }]);
    const hb = await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(devices[4]!),
      body: { ...sampleHeartbeat(t.clock.now()), fcmToken: 'fcm-token-4b' },
    });
    expect(hb.json.commands.map((e: { cid: string }) => e.cid).sort()).toEqual([batch.commands[0]!.id, next.commands[0]!.id].sort());
    const fresh = await t.db.db
      .selectFrom('devices')
      .select(['fcm_token', 'fcm_token_invalid_at'])
      .where('id', '=', devices[4]!.deviceId)
      .executeTakeFirstOrThrow();
    expect(fresh).toEqual({ fcm_token: 'fcm-token-4b', fcm_token_invalid_at: null });
  });

  it('records a device without a token, and gives up on final errors after one attempt', async () => {
    push.plan('fcm-token-2', ['failed']);
    const batch = await send([devices[5]!.deviceId, devices[2]!.deviceId]);
    const outcomes = await Promise.all(
      batch.commands.map(async (c) => (await detail(c.id)).dispatches.map((d: { outcome: string }) => d.outcome)),
    );
    expect(outcomes.flat().sort()).toEqual(['failed', 'no_token']);
  });

  it('pushes large batches in sendEach chunks of at most 500', async () => {
    push.calls.length = 0;
    const ids = devices.slice(0, 5).map((d) => d.deviceId);
    push.script.clear();
    await send(ids);
    expect(Math.max(...push.calls)).toBeLessThanOrEqual(500);
  });
});
