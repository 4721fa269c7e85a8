import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import { auditRoutes } from './audit.routes.js';
import { AuditService } from './audit.service.js';

/** The audit context: every admin action, typed, written only through AuditService (its public surface). */
export { AuditService };
export { flushAuthFailures, pruneAuditBefore } from './audit.repository.js';
export { AUDIT_ACTIONS, type AuditAction, type AuditActor, type AuditEvent, type RolloutChange } from './audit.types.js';

export interface AuditDeps {
  db: Db;
  clock: Clock;
}

export function createAudit({ db, clock }: AuditDeps) {
  const audit = new AuditService(db, clock);
  return { audit, routes: auditRoutes(audit) };
}
