import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { AuthFailureLog, AuthFailureScope } from '../../ports/auth-failures.js';
import type { Db } from '../../ports/db.js';
import type { Logger } from '../../ports/logger.js';

/** Counts held in memory before they are written: a second at most, or this many keys. */
const FLUSH_AFTER_MS = 1000;
const MAX_PENDING_KEYS = 1000;

interface Pending {
  scope: AuthFailureScope;
  address: string;
  minute: Date;
  failures: number;
}

/**
 * One row per scope, address and minute in `auth_failures`, shared by every instance on the database.
 * Failures are added up in memory and written at most once a second (or when a thousand keys wait), in
 * one statement for all keys: a flood of bad tokens costs the database one upsert a second, not one
 * per request. What an instance holds when it is killed (a second's worth at most) is lost; `flush()`
 * writes it now (the tick calls it before moving ended minutes into the audit log).
 */
export class PgAuthFailureLog implements AuthFailureLog {
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async record(scope: AuthFailureScope, address: string): Promise<void> {
    const now = this.clock.now();
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    const key = `${minute.getTime()}|${scope}|${address}`;
    const pending = this.#pending.get(key);
    if (pending) pending.failures++;
    else this.#pending.set(key, { scope, address: address.slice(0, 64), minute, failures: 1 });
    if (this.#pending.size >= MAX_PENDING_KEYS) await this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_AFTER_MS).unref();
  }

  /** Writes every count held now; never throws (a failure is logged and those counts are dropped). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // in key order, so two instances writing overlapping keys never wait on each other in a cycle
    const rows = [...this.#pending.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
    this.#pending = new Map();
    if (rows.length === 0) return this.#flushing;
    // one write at a time, in order
    this.#flushing = this.#flushing.then(() => this.#write(rows));
    return this.#flushing;
  }

  async #write(rows: Pending[]): Promise<void> {
    try {
      await this.db
        .insertInto('auth_failures')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['minute', 'scope', 'address']).doUpdateSet({ failures: sql`auth_failures.failures + excluded.failures` }),
        )
        .execute();
    } catch (err) {
      this.logger.warn('could not count authentication failures for the audit log', { keys: rows.length, err });
    }
  }
}
