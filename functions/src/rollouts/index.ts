import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { RolloutEngine, type RolloutPorts } from './rollouts.engine.js';
import { rolloutRoutes } from './rollouts.routes.js';
import { RolloutService, type ReleaseInfo } from './rollouts.service.js';

/** The rollouts context: staged rollouts of catalog releases gated on app health (its public surface). */
export { RolloutService, RolloutEngine, type RolloutPorts, type ReleaseInfo };
export { rolloutCounts } from './rollouts.metrics.js';

export interface RolloutsDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  releases: { get(id: string): Promise<ReleaseInfo> };
  ports: RolloutPorts;
  publicUrl: string;
  agentPackage: string;
}

export function createRollouts(d: RolloutsDeps) {
  const engine = new RolloutEngine(d.db, d.clock, d.audit, d.logger, d.ports, d.publicUrl, d.agentPackage);
  const rollouts = new RolloutService(d.db, d.clock, d.audit, d.releases, engine);
  return { rollouts, engine, routes: rolloutRoutes(rollouts), tick: () => engine.tick() };
}
