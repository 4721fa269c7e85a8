import type { Expression } from 'firebase-functions/params';
import { onMessagePublished } from 'firebase-functions/v2/pubsub';
import { z } from 'zod';
import type { Logger } from '../ports/logger.js';
import { COMMAND_BATCH_TOPIC } from '../ports/queue.js';

export { COMMAND_BATCH_TOPIC };

const message = z.object({ batchId: z.uuid() });

/**
 * The Firebase trigger that signs and pushes a published command batch. Pub/Sub delivers at least
 * once and redelivers on failure (retry: true); the dispatcher's SQL claim makes a second delivery
 * push nothing twice. A message that is not a batch is acknowledged and logged, never retried.
 */
export function commandDispatchTrigger(
  options: { region?: string; topic?: string; maxInstances?: number | Expression<number>; concurrency?: number; timeoutSeconds?: number },
  deps: () => Promise<{ dispatch(batchId: string): Promise<unknown>; logger: Logger }>,
) {
  return onMessagePublished(
    {
      topic: options.topic ?? COMMAND_BATCH_TOPIC,
      ...(options.region ? { region: options.region } : {}),
      retry: true,
      // a fleet-wide batch of 10,000 signs and pushes in a few seconds; retries wait with backoff
      timeoutSeconds: options.timeoutSeconds ?? 300,
      memory: '512MiB',
      concurrency: options.concurrency ?? 4,
      maxInstances: options.maxInstances ?? 4,
    },
    async (event) => {
      const { dispatch, logger } = await deps();
      // Message.json throws on data that is not JSON: such a message is acknowledged like any other bad one.
      let json: unknown;
      try {
        json = event.data.message.json;
      } catch {
        json = undefined;
      }
      const parsed = message.safeParse(json);
      if (!parsed.success) {
        logger.warn('ignored a command-batch message that is not one', { messageId: event.data.message.messageId });
        return;
      }
      await dispatch(parsed.data.batchId);
    },
  );
}
