import functionsTest from 'firebase-functions-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_BATCH_TOPIC, commandDispatchTrigger } from '../../src/firebase/commands.trigger.js';
import { memoryLogger } from '../../src/adapters/logging/logger.js';
import type { Push, PushMessage, PushOutcome } from '../../src/ports/push.js';
import type { CommandBatchMessage, Queue } from '../../src/ports/queue.js';
import { createTestApp, sampleDevice, type TestApp } from '../helpers/app.js';

const ft = functionsTest({ projectId: 'demo-mdm' });
afterAll(() => ft.cleanup());

/** FCM as the dispatcher sees it: records what it accepted; can be told to fail the next calls outright. */
class RecordingPush implements Push {
  readonly available = true;
  readonly accepted: PushMessage[] = [];
  failNext = 0;
  async send(messages: PushMessage[]): Promise<PushOutcome[]> {
    await new Promise((r) => setTimeout(r, 20));
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('socket hang up'); // the function dies mid-dispatch; Pub/Sub will deliver again
    }
    this.accepted.push(...messages);
    return messages.map((_, i) => ({ ok: true, messageId: `m-${this.accepted.length + i}` }));
  }
}

/** Pub/Sub as the app sees it: publishing only records the batch; the test delivers it to the trigger, as often as it likes. */
class RecordingQueue implements Queue {
  readonly published: CommandBatchMessage[] = [];
  async publish(message: CommandBatchMessage): Promise<void> {
    this.published.push(message);
  }
}

/** A CloudEvent as the Functions runtime hands it over (base64 data), with Pub/Sub's message id. */
const delivery = (batchId: string, messageId: string) => ({
  specversion: '1.0' as const,
  id: messageId,
  source: `//pubsub.googleapis.com/projects/demo-mdm/topics/${COMMAND_BATCH_TOPIC}`,
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  time: new Date().toISOString(),
  data: {
    message: { data: Buffer.from(JSON.stringify({ batchId })).toString('base64'), messageId, publishTime: new Date().toISOString() },
    subscription: 'projects/demo-mdm/subscriptions/command-batches-sub',
  },
});

/**
 * Pub/Sub delivers at least once: the same batch message arrives again (after a timeout, a crash, or
 * just twice at once). Through the real trigger, on PostgreSQL, nothing is pushed twice.
 */
describe('Pub/Sub redelivery of a command batch (PostgreSQL)', () => {
  let t: TestApp;
  const push = new RecordingPush();
  const queue = new RecordingQueue();
  let trigger: ReturnType<typeof commandDispatchTrigger>;
  let operator: string;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await createTestApp('postgres', { PUSH_BACKOFF_MS: '10' }, { push, queue });
    trigger = commandDispatchTrigger({ region: 'europe-west1' }, async () => ({
      dispatch: (id) => t.app.dispatch(id),
      logger: memoryLogger(),
    }));
    operator = await t.loginAs('operator');
    const admin = await t.loginAs('admin');
    for (let i = 0; i < 8; i++) {
      const token = (await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: {} })).json.token;
      const res = await t.request('POST', '/api/v1/enroll', {
        body: { enrollmentToken: token, device: sampleDevice(), fcmToken: `fcm-${i}` },
      });
      ids.push(res.json.deviceId);
    }
  });
  afterAll(() => t.close());

  const createBatch = async () => {
    const res = await t.request('POST', '/api/v1/admin/commands', { token: operator, body: { type: 'PING', deviceIds: ids } });
    expect(res.status).toBe(201);
    expect(queue.published.at(-1)).toEqual({ batchId: res.json.batchId });
    return res.json as { batchId: string; commands: { id: string }[] };
  };
  const pushedOf = (batch: { commands: { id: string }[] }) => {
    const cids = new Set(batch.commands.map((c) => c.id));
    return push.accepted.filter((m) => cids.has(m.data.cid!)).map((m) => m.data.cid!);
  };

  it('pushes each command once when the message is delivered again, and twice at once', async () => {
    const batch = await createBatch();
    await trigger(delivery(batch.batchId, 'm1') as never);
    await trigger(delivery(batch.batchId, 'm1') as never); // redelivered after an ack was lost
    await Promise.all([trigger(delivery(batch.batchId, 'm1') as never), trigger(delivery(batch.batchId, 'm1') as never)]);
    const pushed = pushedOf(batch);
    expect(pushed.sort()).toEqual(batch.commands.map((c) => c.id).sort());
    expect(new Set(pushed).size).toBe(pushed.length);
  });

  it('after a delivery that died before FCM took anything, a later redelivery pushes everything, once', async () => {
    const batch = await createBatch();
    push.failNext = 1;
    await expect(trigger(delivery(batch.batchId, 'm2') as never)).rejects.toThrow('socket hang up');
    expect(pushedOf(batch)).toEqual([]);
    // Pub/Sub retries at once: the claim is fresh (the first run may still be alive), so it leaves it
    await trigger(delivery(batch.batchId, 'm2') as never);
    expect(pushedOf(batch)).toEqual([]);
    // ... and again after the claim went stale: this one takes over and pushes, once
    t.clock.advance(3 * 60_000);
    await Promise.all([trigger(delivery(batch.batchId, 'm2') as never), trigger(delivery(batch.batchId, 'm2') as never)]);
    await trigger(delivery(batch.batchId, 'm2') as never);
    const pushed = pushedOf(batch);
    expect(pushed.sort()).toEqual(batch.commands.map((c) => c.id).sort());
    // the commands that were never pushed still reach the devices through their heartbeats meanwhile
    const statuses = await t.db.db.selectFrom('commands').select('status').where('batch_id', '=', batch.batchId).execute();
    expect(statuses.every((s) => s.status === 'dispatched')).toBe(true);
  });

  it('acknowledges a message that is not a batch without dispatching anything', async () => {
    const before = push.accepted.length;
    await trigger({ ...delivery('not-a-uuid', 'm3') } as never);
    expect(push.accepted.length).toBe(before);
  });
});
