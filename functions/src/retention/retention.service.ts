import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { rolledUpTo } from '../devices/index.js';
import {
  dropPartition,
  heartbeatPartitions,
  oldestHeartbeatDay,
  pruneCommands,
  pruneDeviceEvents,
  pruneDownloads,
  pruneFleetHealthHours,
  pruneNotifications,
  rollUpHour,
  rollupPartitions,
  startRollupsAt,
} from './retention.repository.js';

export interface RetentionOptions {
  heartbeatDays: number;
  rollupDays: number;
  commandDays: number;
  notificationDays: number;
  downloadDays: number;
}

export interface RetentionReport {
  hoursRolledUp: number;
  heartbeatPartitionsDropped: string[];
  rollupPartitionsDropped: string[];
  commandsPruned: number;
  notificationsPruned: number;
  downloadsPruned: number;
  deviceEventsPruned: number;
}

const HOUR_MS = 3600_000;
const DAY_MS = 86_400_000;
/** An hour is rolled up this long after it ended, so batches received just before the hour's end have committed. */
const SETTLE_MS = 5 * 60_000;

/** How long one maintenance run may spend catching up on rollups (Firebase gives the job 540 s). */
const DEFAULT_ROLLUP_BUDGET_MS = 4 * 60_000;

const floorHour = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;
const floorDay = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

/**
 * What the database keeps and for how long. Raw heartbeats are rolled up into hourly rows as each
 * hour ends (the minute tick takes one hour at a time; maintenance catches up on all), and a daily
 * heartbeat partition is dropped once it is older than HEARTBEAT_RETENTION_DAYS *and* rolled up -
 * never before. Rollups go by whole months after ROLLUP_RETENTION_DAYS; finished commands, sent
 * alert messages and download records by their own settings.
 */
export class RetentionService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: RetentionOptions,
  ) {}

  /** Rolls up complete hours, oldest first, at most `maxHours` and until `budgetMs` has passed; returns how many. */
  async rollUp(maxHours = Number.POSITIVE_INFINITY, budgetMs = Number.POSITIVE_INFINITY): Promise<number> {
    const limit = floorHour(this.clock.now().getTime() - SETTLE_MS);
    const stopAt = performance.now() + budgetMs;
    let done = 0;
    while (done < maxHours && performance.now() < stopAt) {
      let from = await rolledUpTo(this.db);
      if (!from) {
        // the first run: from the oldest heartbeat there is, or - on a fresh database - from now on
        from = (await oldestHeartbeatDay(this.db)) ?? new Date(limit);
        await startRollupsAt(this.db, from);
        continue;
      }
      if (from.getTime() + HOUR_MS > limit) break;
      const r = await rollUpHour(this.db, from);
      if (!r.done) break; // another instance is at it
      done++;
    }
    return done;
  }

  /**
   * The daily job: roll up what is due, then drop and prune what is past its retention. The catch-up
   * is bounded by `rollupBudgetMs` (after an upgrade a large fleet has weeks of hours to roll up; the
   * minute tick and the next runs carry on, and partitions wait for them).
   */
  async run(rollupBudgetMs = DEFAULT_ROLLUP_BUDGET_MS): Promise<RetentionReport> {
    const now = this.clock.now().getTime();
    const hoursRolledUp = await this.rollUp(Number.POSITIVE_INFINITY, rollupBudgetMs);
    const watermark = (await rolledUpTo(this.db))?.getTime() ?? 0;

    const heartbeatCutoff = floorDay(now) - this.options.heartbeatDays * DAY_MS;
    const heartbeatPartitionsDropped: string[] = [];
    for (const p of await heartbeatPartitions(this.db)) {
      if (p.to.getTime() > heartbeatCutoff) continue;
      if (p.to.getTime() > watermark) {
        this.logger.warn('heartbeat partition past retention is not rolled up yet; kept', { partition: p.name });
        continue;
      }
      await dropPartition(this.db, 'heartbeats', p);
      heartbeatPartitionsDropped.push(p.name);
    }

    const rollupCutoff = now - this.options.rollupDays * DAY_MS;
    const rollupPartitionsDropped: string[] = [];
    for (const p of await rollupPartitions(this.db)) {
      if (p.to.getTime() > rollupCutoff) continue;
      await dropPartition(this.db, 'heartbeat_rollups', p);
      rollupPartitionsDropped.push(p.name);
    }
    // the fleet health chart's stored hours go with the rollups they were counted from
    await pruneFleetHealthHours(this.db, new Date(rollupCutoff));

    const days = (n: number) => new Date(now - n * DAY_MS);
    return {
      hoursRolledUp,
      heartbeatPartitionsDropped,
      rollupPartitionsDropped,
      commandsPruned: await pruneCommands(this.db, days(this.options.commandDays)),
      notificationsPruned: await pruneNotifications(this.db, days(this.options.notificationDays)),
      downloadsPruned: await pruneDownloads(this.db, days(this.options.downloadDays)),
      deviceEventsPruned: await pruneDeviceEvents(this.db, new Date(heartbeatCutoff)),
    };
  }
}
