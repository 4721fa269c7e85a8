import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { RetentionService, type RetentionOptions } from './retention.service.js';

/** The retention context: hourly rollups, dropped partitions, pruned rows (its public surface). */
export { RetentionService, type RetentionOptions, type RetentionReport } from './retention.service.js';

export function createRetention(d: { db: Db; clock: Clock; logger: Logger; settings: RetentionOptions }) {
  return { retention: new RetentionService(d.db, d.clock, d.logger, d.settings) };
}
