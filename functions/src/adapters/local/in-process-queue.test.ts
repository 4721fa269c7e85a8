import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../logging/logger.js';
import { PubSubQueue, type PubSubTopic } from '../pubsub/pubsub-queue.js';
import { InProcessQueue } from './in-process-queue.js';
import { type CommandBatchMessage } from '../../ports/queue.js';

const BATCH_A = '3f1c2b7e-8a4d-4c1e-9f6b-2d5a7c9e0b13';
const BATCH_B = '9b8e7d6c-5a4b-4c3d-8e2f-1a0b9c8d7e6f';

/** A promise and its resolve, to hold a handler in flight. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('InProcessQueue', () => {
  it('runs the handler only after publish() has resolved', async () => {
    const queue = new InProcessQueue(memoryLogger());
    const events: string[] = [];
    queue.subscribe(async (m) => {
      events.push(`handler:${m.batchId}`);
    });
    await queue.publish({ batchId: BATCH_A });
    events.push('published');
    // one more microtask turn: the handler must still not have started (it waits for setImmediate)
    await Promise.resolve();
    expect(events).toEqual(['published']);
    await queue.drain();
    expect(events).toEqual(['published', `handler:${BATCH_A}`]);
  });

  it('drain() waits for every handler in flight', async () => {
    const queue = new InProcessQueue(memoryLogger());
    const gate = deferred();
    const done: string[] = [];
    queue.subscribe(async (m) => {
      await gate.promise;
      done.push(m.batchId);
    });
    await queue.publish({ batchId: BATCH_A });
    await queue.publish({ batchId: BATCH_B });

    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    expect(done).toEqual([]);

    gate.resolve();
    await draining;
    expect(drained).toBe(true);
    expect(done).toEqual([BATCH_A, BATCH_B]);
    // nothing left: a second drain returns at once
    await expect(queue.drain()).resolves.toBeUndefined();
  });

  it('drain() also waits for a handler published while draining', async () => {
    const queue = new InProcessQueue(memoryLogger());
    const seen: string[] = [];
    queue.subscribe(async (m) => {
      seen.push(m.batchId);
      if (m.batchId === BATCH_A) await queue.publish({ batchId: BATCH_B });
    });
    await queue.publish({ batchId: BATCH_A });
    await queue.drain();
    expect(seen).toEqual([BATCH_A, BATCH_B]);
  });

  it('logs a handler that throws and keeps working for later publishes', async () => {
    const logger = memoryLogger();
    const queue = new InProcessQueue(logger);
    const handled: string[] = [];
    queue.subscribe(async (m) => {
      if (m.batchId === BATCH_A) throw new Error('signing key unavailable');
      handled.push(m.batchId);
    });

    await expect(queue.publish({ batchId: BATCH_A })).resolves.toBeUndefined();
    await expect(queue.drain()).resolves.toBeUndefined();

    const failures = logger.lines.filter((l) => l.message === 'command dispatch failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      severity: 'ERROR',
      batchId: BATCH_A,
      err: { name: 'Error', message: 'signing key unavailable' },
    });

    await queue.publish({ batchId: BATCH_B });
    await queue.drain();
    expect(handled).toEqual([BATCH_B]);
    expect(logger.lines.filter((l) => l.message === 'command dispatch failed')).toHaveLength(1);
  });

  it('logs a handler that throws synchronously', async () => {
    const logger = memoryLogger();
    const queue = new InProcessQueue(logger);
    queue.subscribe(((): Promise<unknown> => {
      throw new Error('sync');
    }) as (m: CommandBatchMessage) => Promise<unknown>);
    await queue.publish({ batchId: BATCH_A });
    await queue.drain();
    expect(logger.lines).toEqual([
      expect.objectContaining({ message: 'command dispatch failed', batchId: BATCH_A, err: expect.objectContaining({ message: 'sync' }) }),
    ]);
  });

  it('publish without a subscriber is a no-op', async () => {
    const logger = memoryLogger();
    const queue = new InProcessQueue(logger);
    await expect(queue.publish({ batchId: BATCH_A })).resolves.toBeUndefined();
    await queue.drain();

    // a subscriber that arrives later does not get the earlier message
    const seen: string[] = [];
    queue.subscribe(async (m) => {
      seen.push(m.batchId);
    });
    await queue.drain();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([]);
    expect(logger.lines).toEqual([]);
  });
});

describe('PubSubQueue', () => {
  function fakeTopic(result: () => Promise<string> = async () => 'msg-1') {
    const published: Parameters<PubSubTopic['publishMessage']>[0][] = [];
    const topic: PubSubTopic = {
      publishMessage: (m) => {
        published.push(m);
        return result();
      },
    };
    return { topic, published };
  }

  it('publishes the batch id as JSON with the command-batch kind attribute', async () => {
    const { topic, published } = fakeTopic();
    await expect(new PubSubQueue(topic).publish({ batchId: BATCH_A })).resolves.toBeUndefined();
    expect(published).toEqual([{ json: { batchId: BATCH_A }, attributes: { kind: 'command-batch' } }]);
  });

  it("propagates the topic's rejection", async () => {
    const { topic, published } = fakeTopic(async () => {
      throw new Error('8 RESOURCE_EXHAUSTED: quota exceeded');
    });
    await expect(new PubSubQueue(topic).publish({ batchId: BATCH_B })).rejects.toThrow('RESOURCE_EXHAUSTED');
    expect(published).toHaveLength(1);
  });
});
