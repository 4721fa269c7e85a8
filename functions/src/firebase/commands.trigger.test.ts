import { randomUUID } from 'node:crypto';
import functionsTest from 'firebase-functions-test';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../adapters/logging/logger.js';
import { COMMAND_BATCH_TOPIC, commandDispatchTrigger } from './commands.trigger.js';

const t = functionsTest({ projectId: 'demo-mdm' });
afterAll(() => t.cleanup());

/**
 * A CloudEvent as the Functions runtime hands it to the function itself. `t.wrap(fn)` calls `fn.run`, the
 * bare handler, with `message.json` set from the partial; calling `fn` goes through firebase-functions'
 * own Message wrapper, which decodes the base64 `data` the way production does.
 */
function rawEvent(data: string, messageId = 'raw-1') {
  return {
    specversion: '1.0' as const,
    id: messageId,
    source: `//pubsub.googleapis.com/projects/demo-mdm/topics/${COMMAND_BATCH_TOPIC}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    time: new Date().toISOString(),
    data: {
      message: { data, messageId, publishTime: new Date().toISOString(), attributes: { kind: 'command-batch' } },
      subscription: 'projects/demo-mdm/subscriptions/command-batches-sub',
    },
  };
}
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The trigger over a fake dispatcher that records batch ids (and can be told to fail). */
function setup(options: { fail?: Error; topic?: string } = {}) {
  const dispatched: string[] = [];
  const logger = memoryLogger();
  let depsCalls = 0;
  const dispatch = async (batchId: string) => {
    dispatched.push(batchId);
    if (options.fail) throw options.fail;
    return { pushed: 1 };
  };
  const fn = commandDispatchTrigger({ region: 'europe-west1', ...(options.topic ? { topic: options.topic } : {}) }, async () => {
    depsCalls++;
    return { dispatch, logger };
  });
  const warnings = () => logger.lines.filter((l) => l.severity === 'WARNING');
  return { fn, wrapped: t.wrap(fn), dispatched, logger, warnings, depsCalls: () => depsCalls };
}

describe('commandDispatchTrigger configuration', () => {
  it('listens on the command-batches topic in the given region, with retry and its runtime options', () => {
    const { fn } = setup();
    expect(COMMAND_BATCH_TOPIC).toBe('command-batches');
    const endpoint = fn.__endpoint;
    expect(endpoint.platform).toBe('gcfv2');
    expect(endpoint.region).toEqual(['europe-west1']);
    expect(endpoint.eventTrigger).toMatchObject({
      eventType: 'google.cloud.pubsub.topic.v1.messagePublished',
      eventFilters: { topic: 'command-batches' },
      retry: true,
    });
    expect(endpoint).toMatchObject({ timeoutSeconds: 300, availableMemoryMb: 512, concurrency: 4, maxInstances: 4 });
  });

  it('takes another topic when one is given', () => {
    const { fn } = setup({ topic: 'command-batches-staging' });
    expect(fn.__endpoint.eventTrigger).toMatchObject({ eventFilters: { topic: 'command-batches-staging' } });
  });
});

describe('commandDispatchTrigger delivery', () => {
  it('dispatches the batch id of a command-batch message once', async () => {
    const { wrapped, dispatched, warnings } = setup();
    const batchId = randomUUID();
    await wrapped({ data: { message: { json: { batchId }, attributes: { kind: 'command-batch' } } } });
    expect(dispatched).toEqual([batchId]);
    expect(warnings()).toEqual([]);
  });

  it.each([
    ['a batchId that is not a uuid', { json: { batchId: 'batch-1' } }],
    ['a uuid under another key', { json: { id: randomUUID() } }],
    ['a JSON string instead of an object', { json: 'command-batch' }],
    ['a JSON array', { json: [randomUUID()] }],
    ['no json given (the default payload)', {}],
  ])('acknowledges %s without dispatching, and logs a warning', async (_name, message) => {
    const { wrapped, dispatched, warnings } = setup();
    await expect(wrapped({ data: { message: { ...message, messageId: 'bad-1' } } })).resolves.toBeUndefined();
    expect(dispatched).toEqual([]);
    expect(warnings()).toEqual([
      expect.objectContaining({ message: 'ignored a command-batch message that is not one', messageId: 'bad-1' }),
    ]);
  });

  it('lets an error from dispatch propagate so Pub/Sub redelivers', async () => {
    const { wrapped, dispatched } = setup({ fail: new Error('database is down') });
    const batchId = randomUUID();
    await expect(wrapped({ data: { message: { json: { batchId } } } })).rejects.toThrow('database is down');
    expect(dispatched).toEqual([batchId]);
  });

  it('dispatches again when the same message is delivered twice', async () => {
    const { wrapped, dispatched, depsCalls } = setup();
    const batchId = randomUUID();
    const event = { data: { message: { json: { batchId }, messageId: 'same-id' } } };
    await wrapped(event);
    await wrapped(event);
    expect(dispatched).toEqual([batchId, batchId]);
    expect(depsCalls()).toBe(2);
  });
});

describe('commandDispatchTrigger on the runtime path (base64 Pub/Sub data)', () => {
  it('dispatches a message published the way PubSubQueue publishes it', async () => {
    const { fn, dispatched, warnings } = setup();
    const batchId = randomUUID();
    await fn(rawEvent(b64(JSON.stringify({ batchId }))));
    expect(dispatched).toEqual([batchId]);
    expect(warnings()).toEqual([]);
  });

  it('acknowledges JSON that is not a batch without dispatching', async () => {
    const { fn, dispatched, warnings } = setup();
    await expect(fn(rawEvent(b64('{"batchId":"nope"}'), 'raw-2'))).resolves.toBeUndefined();
    expect(dispatched).toEqual([]);
    expect(warnings()).toEqual([expect.objectContaining({ messageId: 'raw-2' })]);
  });

  // Data that is not JSON at all: firebase-functions' Message.json getter throws. If that escapes the
  // handler, a retry: true subscription redelivers the poison message until it expires.
  it.each([
    ['plain text', b64('this is not json')],
    ['truncated JSON', b64('{"batchId":"3f1c2b7e-')],
    ['empty data', ''],
  ])('acknowledges a message whose data is %s, without dispatching, and logs a warning', async (_name, data) => {
    const { fn, dispatched, warnings } = setup();
    await expect(fn(rawEvent(data, 'poison-1'))).resolves.toBeUndefined();
    expect(dispatched).toEqual([]);
    expect(warnings()).toEqual([expect.objectContaining({ messageId: 'poison-1' })]);
  });
});
