import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import { apkRoutes } from './apk.routes.js';
import { ApkService, type ApkOptions } from './apk.service.js';

/** The apk context: agent releases and their downloads (its public surface). */
export { ApkService } from './apk.service.js';

export interface ApkDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  settings: ApkOptions;
}

export function createApk(d: ApkDeps) {
  const apk = new ApkService(d.db, d.clock, d.audit, d.settings);
  return { apk, routes: apkRoutes(apk) };
}
