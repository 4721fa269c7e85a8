import { COMMAND_BATCH_TOPIC, type CommandBatchMessage, type Queue } from '../../ports/queue.js';

/** The slice of @google-cloud/pubsub's Topic this adapter uses (so tests can hand in a fake). */
export interface PubSubTopic {
  publishMessage(message: { json: unknown; attributes?: Record<string, string> }): Promise<string>;
}

/** Publishes command batches to a Pub/Sub topic; the onMessagePublished trigger dispatches them. */
export class PubSubQueue implements Queue {
  constructor(private readonly topic: PubSubTopic) {}

  async publish(message: CommandBatchMessage): Promise<void> {
    await this.topic.publishMessage({ json: message, attributes: { kind: 'command-batch' } });
  }
}

/**
 * The production queue: the project's `command-batches` topic, with the function's own credentials.
 * The Pub/Sub client (gRPC, a large module) is loaded on the first publish, so functions that never
 * publish (heartbeats) never load it.
 */
export function createPubSubQueue(topicName: string = COMMAND_BATCH_TOPIC): Queue {
  let queue: Promise<PubSubQueue> | undefined;
  return {
    publish: async (message) => {
      queue ??= import('@google-cloud/pubsub').then(({ PubSub }) => new PubSubQueue(new PubSub().topic(topicName)));
      await (await queue).publish(message);
    },
  };
}
