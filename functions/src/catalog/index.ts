import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Db } from '../ports/db.js';
import type { Downloader } from '../ports/downloader.js';
import type { Logger } from '../ports/logger.js';
import type { Spool } from '../ports/spool.js';
import { catalogRoutes } from './catalog.routes.js';
import { CatalogService, type CatalogOptions } from './catalog.service.js';
import { ReleaseIntake, type IntakeOptions } from './release-intake.js';

/** The catalog context: the agent's and the kiosk apps' releases, their signers and downloads (its public surface). */
export { CatalogService, type InstallableRelease } from './catalog.service.js';

export interface CatalogDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  blobs: BlobStore;
  /** Where an upload or a download waits while it is read (a private temporary file). */
  spool: Spool;
  /** Fetches a release registered by https URL, through the egress policy. */
  downloader: Downloader;
  logger: Logger;
  settings: CatalogOptions & IntakeOptions;
}

export function createCatalog(d: CatalogDeps) {
  const catalog = new CatalogService(d.db, d.clock, d.audit, d.blobs, d.settings);
  const intake = new ReleaseIntake(d, d.settings);
  return { catalog, routes: catalogRoutes(catalog, intake) };
}
