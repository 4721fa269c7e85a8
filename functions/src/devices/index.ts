import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { SessionTokens } from '../core/session-tokens.js';
import type { LiveView } from '../fleet-view/index.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { ensureHeartbeatPartitions } from './devices.repository.js';
import { deviceRoutes } from './devices.routes.js';
import { DeviceService, type CommandOutbox, type DeviceServiceOptions } from './devices.service.js';
import { HeartbeatWriter } from './heartbeat-writer.js';
import { lifecycleRoutes } from './lifecycle.routes.js';
import { LifecycleService, type LifecycleEffects } from './lifecycle.service.js';

/**
 * The devices context: device sessions, heartbeats (the hot path), device reads and edits, groups,
 * telemetry, and the lifecycle: retire, delete, replace, bulk moves and tag edits (its public
 * surface). Enrollment creates groups through `upsertGroup`; retention rolls
 * up heartbeats with the same hourly aggregates the telemetry reads use.
 */
export { DeviceService, type CommandOutbox } from './devices.service.js';
export { HeartbeatWriter } from './heartbeat-writer.js';
export { LifecycleService, type LifecycleEffects } from './lifecycle.service.js';
export { HOURLY_AGGREGATES, ROLLUP_COLUMNS, rolledUpTo, upsertGroup } from './devices.repository.js';

export interface DevicesDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  tokens: SessionTokens;
  hasher: SecretHasher;
  audit: AuditService;
  /** Where heartbeat answers get pending commands (the commands context). */
  outbox: CommandOutbox;
  liveView: LiveView;
  /** What retiring asks of the commands and alerts contexts. */
  lifecycle: LifecycleEffects;
  settings: DeviceServiceOptions & { heartbeatBatchMax: number; heartbeatWriteConcurrency: number; partitionsAheadDays: number };
}

export function createDevices(d: DevicesDeps) {
  const { heartbeatBatchMax, heartbeatWriteConcurrency, partitionsAheadDays, ...options } = d.settings;
  const heartbeats = new HeartbeatWriter(d.db, d.logger, {
    maxBatch: heartbeatBatchMax,
    maxInFlight: heartbeatWriteConcurrency,
    liveView: d.liveView,
  });
  const devices = new DeviceService(d.db, d.clock, d.tokens, d.hasher, heartbeats, d.outbox, d.audit, d.liveView, options);
  const lifecycle = new LifecycleService(d.db, d.clock, d.audit, d.liveView, d.lifecycle, d.logger);
  return {
    devices,
    heartbeats,
    lifecycle,
    routes: [...deviceRoutes(devices), ...lifecycleRoutes(lifecycle)],
    /** Maintenance: daily heartbeat partitions from yesterday to the days ahead; returns how many were created. */
    ensurePartitions: () => ensureHeartbeatPartitions(d.db, new Date(d.clock.now().getTime() - 86_400_000), partitionsAheadDays + 1),
  };
}
