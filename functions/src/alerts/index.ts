import type { AuditService } from '../audit/index.js';
import type { CommandService } from '../commands/index.js';
import type { Clock } from '../core/clock.js';
import type { LiveView } from '../fleet-view/index.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { Notifier } from '../ports/notifier.js';
import type { FailureLimiter } from '../ports/failure-limiter.js';
import { AlertSettingsService, defaultSettings, type AlertDefaults } from './alert-settings.js';
import { alertRoutes } from './alerts.routes.js';
import { alertHoursRoutes } from './alert-hours.routes.js';
import { AlertHoursService } from './alert-hours.service.js';
import { AlertService } from './alerts.service.js';
import { AlertDelivery } from './delivery.js';
import { SelfHealing } from './self-healing.js';

/**
 * The alerts context's public surface: other code imports only this. The sweep raises and resolves
 * alerts, self-healing steps through the ladder, the delivery tells people; the settings say how.
 */
export { ALERT_KINDS, OPERATOR_ALERT_KINDS, type AlertKind, type OperatorAlertKind } from './alert-kinds.js';
export { AlertSettingsService, defaultSettings, type AlertDefaults };
export { alertRoutes };
export type { AlertSettings } from './alerts.schemas.js';
export { AlertService };
export { CHANNEL_TESTS_PER_WINDOW } from './alerts.service.js';
export { AlertDelivery };
export { SelfHealing };
/** One sweep on its own (the sweep bench times it). */
export { sweep, type SweepResult } from './sweep.js';

export interface AlertSettingsDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  defaults: AlertDefaults;
  /** Seals the channel URLs (webhook, SMTP credentials) at rest. */
  encryptionKey: Buffer;
  /** Hosts a saved Discord webhook may point at (DISCORD_WEBHOOK_HOSTS). */
  webhookHosts: readonly string[];
}

/** The settings alone: other contexts read thresholds from them before the rest of alerts exists. */
export const createAlertSettings = (d: AlertSettingsDeps) =>
  new AlertSettingsService(d.db, d.clock, d.audit, defaultSettings(d.defaults), d.encryptionKey, d.webhookHosts);

export interface AlertsDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  settings: AlertSettingsService;
  commands: CommandService;
  liveView: LiveView;
  notifier: Notifier;
  /** PUBLIC_URL: links in messages point at the console here. */
  publicUrl: string;
  /** Counts channel tests per admin (CHANNEL_TESTS_PER_WINDOW). */
  limiter: FailureLimiter;
}

export function createAlerts(d: AlertsDeps) {
  const alerts = new AlertService(
    d.db,
    d.clock,
    d.audit,
    d.settings,
    new SelfHealing(d.db, d.commands, d.audit, d.clock, d.logger),
    new AlertDelivery(d.db, d.notifier, d.clock, d.logger, d.publicUrl),
    d.notifier,
    d.liveView,
    d.logger,
    d.limiter,
  );
  const hours = new AlertHoursService(d.db, d.clock, d.audit);
  return { alerts, hours, routes: [...alertRoutes(alerts), ...alertHoursRoutes(hours)], tick: () => alerts.tick() };
}
