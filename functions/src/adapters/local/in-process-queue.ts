import type { Logger } from '../../ports/logger.js';
import type { CommandBatchMessage, Queue } from '../../ports/queue.js';

/** Runs the handler after the publishing request has returned; failures are logged, the heartbeat still delivers. */
export class InProcessQueue implements Queue {
  #handler: ((message: CommandBatchMessage) => Promise<unknown>) | undefined;
  #running = new Set<Promise<unknown>>();

  constructor(private readonly logger: Logger) {}

  subscribe(handler: (message: CommandBatchMessage) => Promise<unknown>): void {
    this.#handler = handler;
  }

  async publish(message: CommandBatchMessage): Promise<void> {
    const handler = this.#handler;
    if (!handler) return;
    const run = new Promise((resolve) => setImmediate(resolve))
      .then(() => handler(message))
      .catch((err: unknown) => this.logger.error('command dispatch failed', { batchId: message.batchId, err }))
      .finally(() => this.#running.delete(run));
    this.#running.add(run);
  }

  /** Waits for the handlers in flight (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.#running.size) await Promise.all(this.#running);
  }
}
