/**
 * The backend's typed entry for code that runs it in its own process - the benchmarks in tools/ -
 * exported as `@fleet-mdm/functions/in-process` (package.json "exports", declarations in lib/).
 * Nothing else outside functions/ imports the backend; the architecture test holds tools to this.
 */
export { FcmPush } from './adapters/fcm/fcm-push.js';
export { createLogger } from './adapters/logging/logger.js';
export { openDatabase, type DatabaseHandle } from './adapters/postgres/connect.js';
export { migrateToLatest } from './adapters/postgres/migrate.js';
export { defaultSettings, sweep, type AlertDefaults, type SweepResult } from './alerts/index.js';
export { loadConfig, type Config } from './config/config.js';
export type { Clock } from './core/clock.js';
export { encrypt } from './core/crypto.js';
export { createNodeServer } from './http/node-server.js';
export type { Mirror, DeviceDoc, FleetSummary } from './ports/mirror.js';
export type { Push, PushMessage, PushOutcome } from './ports/push.js';
export { createStandaloneApp, type StandaloneApp, type StandaloneOverrides } from './standalone/adapters.js';
