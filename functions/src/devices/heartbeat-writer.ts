import type { Db } from '../ports/db.js';
import { isDatabaseUnavailable, isMissingPartition, isRetryableConflict } from '../ports/db-errors.js';
import type { Logger } from '../ports/logger.js';
import { NEVER_DUE, type LiveView, type MirrorPolicy } from '../fleet-view/index.js';
import { ensureHeartbeatPartitions, insertHeartbeats, type HeartbeatRow } from './devices.repository.js';

export type Stored = Map<string, { hasCommands: boolean; mirrorDue: boolean; duplicates?: number; policy?: PolicyRef | null }>;
/** The device's effective policy as the heartbeat statement read it. */
export type PolicyRef = { version: number; hash: string };
export type InsertHeartbeats = (db: Db, rows: HeartbeatRow[], mirror: MirrorPolicy) => Promise<Stored>;
/** What a stored heartbeat learned; null when the device does not exist. */
export type WriteResult = { hasCommands: boolean; policy: PolicyRef | null } | null;
export type EnsurePartitions = (db: Db, from: Date, days: number) => Promise<number>;

export interface HeartbeatWriterOptions {
  /** Most heartbeats written by one statement. */
  maxBatch: number;
  /** Most batch statements in flight at once (keep it below the pool size). */
  maxInFlight: number;
  /**
   * The live view: when a device's document is due, as of a time, and where the documents of the
   * devices that are due go after a batch commits (before anyone is answered). Without one, none is.
   */
  liveView?: Pick<LiveView, 'policy' | 'publish'>;
}

interface Pending extends HeartbeatRow {
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

const DAY_MS = 86_400_000;

/**
 * Group commit for heartbeats. Requests queue here; whenever a statement slot is free, everything
 * queued (up to maxBatch) is written by one statement, and each request is answered only after that
 * statement has committed - so a 200 always means the row is durable. Under light load a batch is
 * one heartbeat and adds no delay; under heavy load batches grow by themselves while earlier ones
 * are in flight, and one commit (one fsync, one round trip) carries hundreds of heartbeats.
 */
export class HeartbeatWriter {
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  /** Counters for metrics and tests: statements run, heartbeats written, the largest batch. */
  readonly stats = { statements: 0, rows: 0, duplicates: 0, largestBatch: 0, retries: 0 };

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly options: HeartbeatWriterOptions,
    private readonly insert: InsertHeartbeats = insertHeartbeats,
    private readonly ensurePartitions: EnsurePartitions = ensureHeartbeatPartitions,
  ) {}

  /** Resolves once stored, with null when the device does not exist. */
  write(row: HeartbeatRow): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...row, resolve, reject });
      // Deferred to the end of this I/O turn, so requests parsed together share a statement.
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#pump();
        });
      }
    });
  }

  #pump(): void {
    while (this.#inFlight < this.options.maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.options.maxBatch);
      this.#inFlight++;
      void this.#flush(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #flush(batch: Pending[]): Promise<void> {
    try {
      const found = await this.#writeWithRetry(batch);
      const due = [...found].filter(([, r]) => r.mirrorDue).map(([id]) => id);
      if (due.length && this.options.liveView) {
        // the live view is a courtesy: its failure must not fail stored heartbeats
        await this.options.liveView
          .publish(due)
          .catch((err: unknown) => this.logger.warn('mirror update failed', { count: due.length, err }));
      }
      for (const p of batch) {
        const r = found.get(p.deviceId);
        p.resolve(r ? { hasCommands: r.hasCommands, policy: r.policy ?? null } : null);
      }
    } catch (err) {
      // One by one would only knock on a database that is gone, once per heartbeat: all get the 503.
      if (batch.length === 1 || isDatabaseUnavailable(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Something in the batch is refused: write each alone, so only the culprit fails.
      this.logger.warn('heartbeat batch failed; retrying one by one', { size: batch.length, err });
      await Promise.all(batch.map((p) => this.#flush([p])));
    }
  }

  async #writeWithRetry(batch: Pending[], attempt = 0): Promise<Stored> {
    try {
      this.stats.statements++;
      const latest = new Date(Math.max(...batch.map((p) => p.receivedAt.getTime())));
      const found = await this.insert(
        this.db,
        batch,
        this.options.liveView ? await this.options.liveView.policy(latest) : NEVER_DUE(latest),
      );
      let duplicates = 0;
      for (const r of found.values()) duplicates += r.duplicates ?? 0;
      this.stats.rows += batch.length - duplicates;
      this.stats.duplicates += duplicates;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      return found;
    } catch (err) {
      if (attempt >= 3) throw err;
      this.stats.retries++;
      if (isMissingPartition(err)) {
        // Maintenance creates partitions days ahead; this only runs if it has not.
        const times = batch.map((p) => p.receivedAt.getTime());
        const first = Math.min(...times);
        await this.ensurePartitions(this.db, new Date(first), Math.ceil((Math.max(...times) - first) / DAY_MS) + 1);
        return this.#writeWithRetry(batch, attempt + 1);
      }
      // Two batches touching the same devices in different orders can deadlock; the statement is atomic, so retry.
      if (isRetryableConflict(err)) return this.#writeWithRetry(batch, attempt + 1);
      throw err;
    }
  }
}
