/** The console context: where the admin console gets its live updates (its public surface). */
export { consoleRoutes } from './console.routes.js';
export { LIVE_SOURCES, type ConsoleConfig, type LiveSource } from './console.schemas.js';
export { ConsoleService } from './console.service.js';
