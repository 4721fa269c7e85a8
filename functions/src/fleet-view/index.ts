import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { Mirror } from '../ports/mirror.js';
import { fleetViewRoutes as routesOf } from './fleet-view.routes.js';
import { FleetViewService, type ThresholdSource as Thresholds } from './fleet-view.service.js';

/**
 * The fleet-view context: the live view's read model - when a device's document is due
 * (fleet-view.repository.ts), publishing documents and the summary to the Mirror port, and the console's
 * fleet snapshot. Devices, alerts and enrollment call it through this surface.
 */
export { appState, mirrorDue, NEVER_DUE, visibleFingerprint, type MirrorPolicy } from './fleet-view.repository.js';
export { fleetViewRoutes } from './fleet-view.routes.js';
export { FleetViewService, toDoc, type LiveView, type MirrorThresholds, type ThresholdSource } from './fleet-view.service.js';

export interface FleetViewDeps {
  db: Db;
  mirror: Mirror;
  clock: Clock;
  logger: Logger;
  /** The thresholds in force: the alert settings. */
  thresholds: Thresholds;
  /** MIRROR_REFRESH_SEC: an unchanged document is rewritten after this long. */
  refreshSec: number;
  /** CONSOLE_SERVER_QUERY_ABOVE: above this many devices the console filters, sorts and pages on the server. */
  serverQueryAbove?: number;
}

export function createFleetView(d: FleetViewDeps) {
  const fleetView = new FleetViewService(d.db, d.mirror, d.clock, d.thresholds, d.refreshSec, d.logger, d.serverQueryAbove);
  return { fleetView, routes: routesOf(fleetView) };
}
