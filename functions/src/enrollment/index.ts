import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { LiveView } from '../fleet-view/index.js';
import type { Db } from '../ports/db.js';
import type { Metrics } from '../ports/metrics.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { enrollmentRoutes } from './enrollment.routes.js';
import { EnrollmentService, type EnrollmentOptions } from './enrollment.service.js';

/** The enrollment context: single-use tokens, ADB scripts, and a device's first contact (its public surface). */
export { EnrollmentService } from './enrollment.service.js';

export interface EnrollmentDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  hasher: SecretHasher;
  liveView: Pick<LiveView, 'tryPublish'>;
  metrics: Pick<Metrics, 'enrolled'>;
  settings: Omit<EnrollmentOptions, 'afterEnroll'>;
}

export function createEnrollment(d: EnrollmentDeps) {
  const enrollment = new EnrollmentService(d.db, d.clock, d.audit, d.hasher, {
    ...d.settings,
    afterEnroll: async (id) => {
      d.metrics.enrolled();
      await d.liveView.tryPublish([id]);
    },
  });
  return { enrollment, routes: enrollmentRoutes(enrollment) };
}
