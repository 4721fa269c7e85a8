import { catalogRoutes } from './catalog.routes.js';
import { CatalogService, type CatalogOptions } from './catalog.service.js';
import { ReleaseIntake, type IntakeDeps, type IntakeOptions } from './release-intake.js';

/** The catalog context: the agent's and the kiosk apps' releases, their signers and downloads (its public surface). */
export { CatalogService, type InstallableRelease } from './catalog.service.js';

/** What the catalog needs: what the intake of releases needs, and the settings of both. */
export interface CatalogDeps extends IntakeDeps {
  settings: CatalogOptions & IntakeOptions;
}

export function createCatalog(d: CatalogDeps) {
  const catalog = new CatalogService(d.db, d.clock, d.audit, d.blobs, d.settings);
  const intake = new ReleaseIntake(d, d.settings);
  return { catalog, routes: catalogRoutes(catalog, intake) };
}
