import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { randomSecret } from '../../core/crypto.js';
import type { SecretHasher } from '../../ports/secret-hasher.js';

/**
 * bcrypt for passwords and device secrets, off the event loop. bcryptjs is pure JavaScript: run on
 * the main thread, a burst of enrollments or session refreshes would hold up every heartbeat behind
 * it (seen: seconds of heartbeat latency while a fleet enrolled). A small pool of worker threads does
 * the hashing while the main thread keeps serving.
 */
interface Job {
  op: 'hash' | 'compare';
  secret: string;
  arg: string | number;
  resolve(value: string | boolean): void;
  reject(err: Error): void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', ({ op, secret, arg }) => {
  try {
    parentPort.postMessage({ result: op === 'hash' ? bcrypt.hashSync(secret, arg) : bcrypt.compareSync(secret, arg) });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});`;

export class WorkerSecretHasher implements SecretHasher {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #dummies = new Map<number, Promise<string>>();

  /** The workers start on the first job: a process that never hashes (the heartbeat function) never starts them. */
  constructor(private readonly size: number) {}

  #start(): void {
    const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath } });
      worker.unref();
      this.#all.push(worker);
      this.#idle.push(worker);
    }
  }

  /** Worker threads running now (0 until the first job). */
  get threads(): number {
    return this.#all.length;
  }

  hash(secret: string, rounds: number): Promise<string> {
    return this.#run('hash', secret, rounds) as Promise<string>;
  }

  compare(secret: string, hash: string): Promise<boolean> {
    return this.#run('compare', secret, hash) as Promise<boolean>;
  }

  async verify(secret: string, hash: string | undefined, dummyRounds: number): Promise<boolean> {
    if (hash) return this.compare(secret, hash);
    let dummy = this.#dummies.get(dummyRounds);
    if (!dummy) this.#dummies.set(dummyRounds, (dummy = this.hash(randomSecret(), dummyRounds)));
    await this.compare(secret, await dummy);
    return false;
  }

  async close(): Promise<void> {
    await Promise.all(this.#all.map((w) => w.terminate()));
  }

  #run(op: Job['op'], secret: string, arg: string | number): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, secret, arg, resolve, reject });
      if (this.#all.length === 0) this.#start();
      this.#next();
    });
  }

  #next(): void {
    const worker = this.#idle.pop();
    if (!worker) return;
    const job = this.#queue.shift();
    if (!job) {
      this.#idle.push(worker);
      return;
    }
    worker.once('message', (msg: { result?: string | boolean; error?: string }) => {
      this.#idle.push(worker);
      this.#next();
      if (msg.error !== undefined) job.reject(new Error(msg.error));
      else job.resolve(msg.result!);
    });
    worker.postMessage({ op: job.op, secret: job.secret, arg: job.arg });
  }
}
