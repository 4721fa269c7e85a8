/**
 * The Queue port: a batch of new commands to sign and push. In Firebase it is a Pub/Sub topic whose
 * onMessagePublished trigger runs the dispatcher; standalone it is this in-process queue.
 */
/** The Pub/Sub topic new command batches are published to (Firebase). */
export const COMMAND_BATCH_TOPIC = 'command-batches';

export interface CommandBatchMessage {
  batchId: string;
}

export interface Queue {
  publish(message: CommandBatchMessage): Promise<void>;
}
