import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { catalogRoutes } from './catalog.routes.js';
import { CatalogService, type CatalogOptions } from './catalog.service.js';

/** The catalog context: the agent's and the kiosk apps' releases, their signers and downloads (its public surface). */
export { CatalogService, type InstallableRelease } from './catalog.service.js';

export interface CatalogDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  blobs: BlobStore;
  logger: Logger;
  settings: CatalogOptions;
}

export function createCatalog(d: CatalogDeps) {
  const catalog = new CatalogService(d.db, d.clock, d.audit, d.blobs, d.logger, d.settings);
  return { catalog, routes: catalogRoutes(catalog) };
}
