import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import { ConvergenceService, type ConvergenceOptions } from './convergence.service.js';
import type { ReleaseLookup } from './effective.js';
import { policyRoutes } from './policies.routes.js';
import { PolicyService, type PolicyOptions } from './policies.service.js';

/**
 * The policies context (docs/policies.md): the fleet default, group policies and device overrides,
 * versioned and audited; the signed effective document devices fetch; their compliance reports and
 * the compliance read model (its public surface). The heartbeat statement reads `policies` directly
 * (devices.repository.ts) so a device whose policy is current costs no extra query.
 */
export { ConvergenceService, PROTOCOL_VERSION, COMPLIANCE_STATES, type ComplianceState } from './convergence.service.js';
export { PolicyService } from './policies.service.js';
export { canonicalJson, policyHash } from './policy-document.js';

export interface PoliciesDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  releases: ReleaseLookup;
  settings: PolicyOptions & ConvergenceOptions;
}

export function createPolicies(d: PoliciesDeps) {
  const policies = new PolicyService(d.db, d.clock, d.audit, d.releases, d.settings);
  const convergence = new ConvergenceService(d.db, d.clock, d.releases, d.settings);
  return { policies, convergence, routes: policyRoutes(policies, convergence) };
}
