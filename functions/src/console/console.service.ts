import type { AlertSettingsService } from '../alerts/alert-settings.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/connect.js';
import { toDoc } from '../devices/device-mirror.js';
import { fleetPage } from './console.repository.js';
import type { ConsoleConfig, FleetQuery } from './console.schemas.js';

/**
 * What the admin console needs beyond the domain APIs: where its live updates come from, and the
 * fleet as the live mirror's documents, so the console loads a snapshot and then merges live
 * documents into it without two shapes to reconcile.
 */
export class ConsoleService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly alertSettings: AlertSettingsService,
    private readonly config: ConsoleConfig,
  ) {}

  consoleConfig(): ConsoleConfig {
    return this.config;
  }

  async fleet(q: FleetQuery) {
    const afterId = q.cursor === undefined ? undefined : decodeCursor(q.cursor, (c) => (typeof c.id === 'string' ? c.id : null));
    const t = (await this.alertSettings.current()).thresholds;
    const now = this.clock.now();
    const rows = await fleetPage(this.db, {
      afterId,
      seenSince: q.seenSince === undefined ? undefined : new Date(q.seenSince),
      limit: q.limit + 1,
      frozenAfterMs: t.frameAgeMs,
    });
    const items = rows.slice(0, q.limit);
    const cutoff = new Date(now.getTime() - t.offlineAfterSec * 1000);
    return {
      items: items.map((r) => toDoc(r, cutoff, now)),
      nextCursor: rows.length > q.limit ? encodeCursor({ id: items.at(-1)!.id }) : null,
    };
  }
}
