import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { randomSecret } from '../../core/crypto.js';
import { serviceUnavailable } from '../../core/errors.js';
import { HASH_LANES, type HashLane, type SecretHasher } from '../../ports/secret-hasher.js';

/**
 * bcrypt for passwords and device secrets, off the event loop. bcryptjs is pure JavaScript: run on
 * the main thread, a burst of enrollments or session refreshes would hold up every heartbeat behind
 * it (seen: seconds of heartbeat latency while a fleet enrolled). A small pool of worker threads does
 * the hashing while the main thread keeps serving.
 *
 * Jobs wait in one bounded queue per lane (device sessions, enrollments, admin sign-ins, other). A
 * free worker takes the next job of the first lane that has one, in HASH_LANES order, so a device
 * session waits at most for the jobs already running, never behind a queue of admin sign-ins (seen
 * before: 150 bad logins made a device session take 16.5 s). A lane whose queue is full refuses the
 * job at once with 503 and Retry-After: a flood costs its own lane, not memory or everyone's latency.
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

/** Seconds a refused job is told to wait before retrying. */
const FULL_RETRY_AFTER_SEC = 2;

export class WorkerSecretHasher implements SecretHasher {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #queues = new Map<HashLane, Job[]>(HASH_LANES.map((l) => [l, []]));
  readonly #dummies = new Map<number, Promise<string>>();
  readonly #lanes = new Map<HashLane, SecretHasher>();

  /**
   * The workers start on the first job: a process that never hashes (the heartbeat function) never
   * starts them. `maxQueuedPerLane` jobs may wait in each lane (BCRYPT_QUEUE_PER_LANE).
   */
  constructor(
    private readonly size: number,
    private readonly maxQueuedPerLane = 32,
  ) {}

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

  /** Jobs waiting in a lane (not yet running). */
  queued(lane: HashLane): number {
    return this.#queues.get(lane)!.length;
  }

  hash(secret: string, rounds: number): Promise<string> {
    return this.#hash('other', secret, rounds);
  }

  compare(secret: string, hash: string): Promise<boolean> {
    return this.#compare('other', secret, hash);
  }

  verify(secret: string, hash: string | undefined, dummyRounds: number): Promise<boolean> {
    return this.#verify('other', secret, hash, dummyRounds);
  }

  lane(name: HashLane): SecretHasher {
    let lane = this.#lanes.get(name);
    if (!lane) {
      lane = {
        hash: (secret, rounds) => this.#hash(name, secret, rounds),
        compare: (secret, hash) => this.#compare(name, secret, hash),
        verify: (secret, hash, dummyRounds) => this.#verify(name, secret, hash, dummyRounds),
        lane: (other) => this.lane(other),
        close: () => this.close(),
      };
      this.#lanes.set(name, lane);
    }
    return lane;
  }

  async close(): Promise<void> {
    await Promise.all(this.#all.map((w) => w.terminate()));
  }

  #hash(lane: HashLane, secret: string, rounds: number): Promise<string> {
    return this.#run(lane, 'hash', secret, rounds) as Promise<string>;
  }

  #compare(lane: HashLane, secret: string, hash: string): Promise<boolean> {
    return this.#run(lane, 'compare', secret, hash) as Promise<boolean>;
  }

  async #verify(lane: HashLane, secret: string, hash: string | undefined, dummyRounds: number): Promise<boolean> {
    if (hash) return this.#compare(lane, secret, hash);
    let dummy = this.#dummies.get(dummyRounds);
    if (!dummy) {
      this.#dummies.set(dummyRounds, (dummy = this.#hash(lane, randomSecret(), dummyRounds)));
      dummy.catch(() => this.#dummies.delete(dummyRounds));
    }
    await this.#compare(lane, secret, await dummy);
    return false;
  }

  #run(lane: HashLane, op: Job['op'], secret: string, arg: string | number): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(lane)!;
      if (queue.length >= this.maxQueuedPerLane) {
        reject(serviceUnavailable(FULL_RETRY_AFTER_SEC, 'the server is busy checking passwords; retry shortly'));
        return;
      }
      queue.push({ op, secret, arg, resolve, reject });
      if (this.#all.length === 0) this.#start();
      this.#next();
    });
  }

  #take(): Job | undefined {
    for (const lane of HASH_LANES) {
      const job = this.#queues.get(lane)!.shift();
      if (job) return job;
    }
    return undefined;
  }

  #next(): void {
    const worker = this.#idle.pop();
    if (!worker) return;
    const job = this.#take();
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
