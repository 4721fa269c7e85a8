import { PubSub } from '@google-cloud/pubsub';
import { COMMAND_BATCH_TOPIC, type CommandBatchMessage, type Queue } from './queue.js';

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

/** The production queue: the project's `command-batches` topic, with the function's own credentials. */
export function createPubSubQueue(topicName: string = COMMAND_BATCH_TOPIC): PubSubQueue {
  return new PubSubQueue(new PubSub().topic(topicName));
}
