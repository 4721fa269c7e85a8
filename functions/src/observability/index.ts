/** The observability context: the fleet's gauges read from the database, and GET /metrics (its public surface). */
export { fleetCounts } from './fleet-counts.repository.js';
export { metricsRoutes } from './metrics.routes.js';
