import { readFileSync } from 'node:fs';
import { createAdmin } from './admin/index.js';
import { createAlerts, createAlertSettings } from './alerts/index.js';
import { createAudit, flushAuthFailures } from './audit/index.js';
import { createCatalog } from './catalog/index.js';
import { createCommands, type DispatchReport } from './commands/index.js';
import type { Config } from './config/config.js';
import { ConsoleService, consoleRoutes, type LiveSource } from './console/index.js';
import { systemClock, type Clock } from './core/clock.js';
import { tokenDigestMatcher } from './core/crypto.js';
import type { Route } from './core/route.js';
import { SessionTokens } from './core/session-tokens.js';
import { createDevices } from './devices/index.js';
import { createEnrollment } from './enrollment/index.js';
import { createFleetView } from './fleet-view/index.js';
import { buildOpenApi } from './http/openapi.js';
import { createRouter } from './http/router.js';
import { streamRoutes, systemRoutes } from './http/system.routes.js';
import { fleetCounts, metricsRoutes } from './observability/index.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Downloader } from './ports/downloader.js';
import type { Spool } from './ports/spool.js';
import type { ConsoleTokens } from './ports/console-tokens.js';
import type { Db } from './ports/db.js';
import type { FailureLimiter } from './ports/failure-limiter.js';
import type { AuthFailureLog } from './ports/auth-failures.js';
import { noJobLeases, type JobLeases } from './ports/job-leases.js';
import type { LiveStream } from './ports/live-stream.js';
import type { Logger } from './ports/logger.js';
import type { MetricsRegistry, PoolStats } from './ports/metrics.js';
import type { Mirror } from './ports/mirror.js';
import type { Notifier } from './ports/notifier.js';
import type { Push } from './ports/push.js';
import type { Queue } from './ports/queue.js';
import type { SecretHasher } from './ports/secret-hasher.js';
import { createRetention, type RetentionReport } from './retention/index.js';
import { createRollouts, rolloutCounts } from './rollouts/index.js';
import { createPolicies } from './policies/index.js';

/** Secrets come from a secret store (Firebase) or DATA_DIR (standalone), never from the database. */
export interface AppSecrets {
  jwtSecret: string;
  /** 32-byte AES key that seals device HMAC keys at rest. */
  encryptionKey: Buffer;
}

/**
 * What a host wires in: one adapter per port. Which host it is, is said, not guessed from what is
 * missing: standalone/adapters.ts builds the standalone set (PGlite or PostgreSQL, event stream,
 * in-process queue), firebase/runtime.ts the Firebase one (Firestore, Pub/Sub, FCM).
 */
export interface HostAdapters {
  host: 'standalone' | 'firebase';
  /** How the console gets live updates: the event stream (standalone) or Firestore documents. */
  liveSource: LiveSource;
  /** The live view's store. */
  mirror: Mirror;
  /** Where GET /api/v1/admin/stream attaches (standalone only). */
  liveStream?: LiveStream;
  /** Where the catalog keeps APK files (DATA_DIR on disk, or Cloud Storage). */
  blobs: BlobStore;
  /** Where an upload or a downloaded APK waits while it is read: a private temporary file. */
  spool: Spool;
  /** Downloads a release registered by https URL, through the egress guard. */
  downloader: Downloader;
  /** Where new command batches go to be pushed. */
  queue: Queue;
  push: Push;
  notifier: Notifier;
  consoleTokens: ConsoleTokens;
  hasher: SecretHasher;
  limiter: FailureLimiter;
  /** Counts authentication failures per scope, address and minute for the audit log. */
  authFailures: AuthFailureLog;
  metrics: MetricsRegistry;
  /** The database pool's counters, for the pool gauges of /metrics (PostgreSQL only). */
  dbPool?: PoolStats | undefined;
  /**
   * Which instance runs the tick and maintenance when several share the database (adapters/postgres/
   * job-leases.ts); without it every call runs.
   */
  leases?: JobLeases | undefined;
}

export interface AppDeps {
  config: Config;
  secrets: AppSecrets;
  db: Db;
  logger: Logger;
  clock?: Clock;
  adapters: HostAdapters;
  /** Google Cloud project, so log lines link to Cloud Trace. */
  traceProject?: string | undefined;
}

/** Maintenance runs hourly (standalone) or daily (Firebase); its lease outlives the hour. */
const MAINTENANCE_LEASE_SEC = 3600;

const NO_RETENTION: RetentionReport = {
  hoursRolledUp: 0,
  heartbeatPartitionsDropped: [],
  rollupPartitionsDropped: [],
  commandsPruned: 0,
  notificationsPruned: 0,
  downloadsPruned: 0,
  deviceEventsPruned: 0,
};

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/**
 * The composition root shared by both hosts: each context built by its own create<Context>(deps)
 * over the host's adapters, the route table, the request handler and the jobs. Settings cross from
 * the config to a context here and nowhere else.
 */
export function createApp(deps: AppDeps) {
  const { config, secrets, db, logger, clock = systemClock, adapters: a } = deps;
  const { encryptionKey } = secrets;
  const tokens = new SessionTokens(secrets.jwtSecret);

  const { audit, routes: auditRoutes } = createAudit({ db, clock });
  const alertSettings = createAlertSettings({
    db,
    clock,
    audit,
    encryptionKey,
    defaults: { offlineAfterSec: config.offlineAfterSec, ...config.alertDefaults },
    webhookHosts: config.egress.discordHosts,
  });
  const fleetView = createFleetView({
    db,
    mirror: a.mirror,
    clock,
    logger,
    refreshSec: config.mirrorRefreshSec,
    serverQueryAbove: config.consoleServerQueryAbove,
    thresholds: alertSettings,
  });
  const liveView = fleetView.fleetView;
  const catalog = createCatalog({
    db,
    clock,
    audit,
    blobs: a.blobs,
    spool: a.spool,
    downloader: a.downloader,
    logger,
    settings: {
      publicUrl: config.publicUrl,
      agentPackage: config.agentPackage,
      agentAdminReceiver: config.agentAdminReceiver,
      maxBytes: config.apkMaxBytes,
      maxConcurrent: config.uploads.maxConcurrent,
      maxPerCaller: config.uploads.maxPerCaller,
    },
  });
  const commands = createCommands({
    db,
    clock,
    audit,
    logger,
    queue: a.queue,
    push: a.push,
    encryptionKey,
    releases: catalog.catalog,
    settings: { defaultTtlSec: config.commandTtlSec, maxPerHeartbeat: 20, push: config.push },
  });
  const policies = createPolicies({
    db,
    clock,
    audit,
    releases: catalog.catalog,
    settings: {
      agentPackage: config.agentPackage,
      previewNames: 20,
      encryptionKey,
      envelopeTtlSec: config.policyEnvelopeTtlSec,
    },
  });
  const admin = createAdmin({
    db,
    clock,
    tokens,
    hasher: a.hasher,
    audit,
    limiter: a.limiter,
    consoleTokens: a.consoleTokens,
    settings: {
      sessionTtlSec: config.adminSessionTtlSec,
      bcryptRounds: config.adminBcryptRounds,
      secureCookie: config.publicUrl.startsWith('https:'),
      accountFailuresAnyAddress: config.loginAccountAnyFailures,
    },
  });
  const enrollment = createEnrollment({
    db,
    clock,
    audit,
    metrics: a.metrics,
    hasher: a.hasher.lane('enrollment'),
    liveView,
    settings: {
      publicUrl: config.publicUrl,
      defaultTtlSec: config.enrollmentTokenTtlSec,
      heartbeatIntervalSec: config.heartbeatIntervalSec,
      deviceSecretBcryptRounds: config.deviceSecretBcryptRounds,
      encryptionKey,
      agentPackage: config.agentPackage,
      agentAdminReceiver: config.agentAdminReceiver,
    },
  });
  const devices = createDevices({
    db,
    clock,
    logger,
    tokens,
    hasher: a.hasher.lane('device'),
    audit,
    outbox: commands.commands,
    liveView,
    // alerts is built below; these run only when a request comes
    lifecycle: {
      sendFinal: async (actor, deviceId, type, ip) =>
        (await commands.commands.create(actor, { type, deviceIds: [deviceId] }, ip)).commands[0]!.id,
      cancelCommands: (ids) => commands.commands.cancelForDevices(ids),
      closeAlerts: (ids) => alerts.alerts.closeForDevices(ids),
    },
    settings: {
      sessionTtlSec: config.deviceSessionTtlSec,
      heartbeatIntervalSec: config.heartbeatIntervalSec,
      bcryptRounds: config.deviceSecretBcryptRounds,
      rawRetentionDays: config.retention.heartbeatDays,
      heartbeatMaxPerMinute: config.heartbeatDeviceMaxPerMin,
      heartbeatBatchMax: config.heartbeatBatchMax,
      heartbeatWriteConcurrency: config.heartbeatWriteConcurrency,
      partitionsAheadDays: config.partitionsAheadDays,
    },
  });
  const alerts = createAlerts({
    db,
    clock,
    logger,
    audit,
    settings: alertSettings,
    commands: commands.commands,
    liveView,
    notifier: a.notifier,
    publicUrl: config.publicUrl,
    limiter: a.limiter,
  });
  const rollouts = createRollouts({
    db,
    clock,
    audit,
    logger,
    releases: catalog.catalog,
    publicUrl: config.publicUrl,
    agentPackage: config.agentPackage,
    ports: {
      movePolicy: async (trx, change) => {
        await policies.policies.followRollout(trx, { kind: 'system', name: 'rollouts' }, change);
      },
      sendInstall: async (deviceIds, releaseId, allowDowngrade) => {
        const sent = await commands.commands.create(
          { kind: 'system', name: 'rollouts' },
          {
            type: 'INSTALL_APK',
            deviceIds,
            params: { releaseId, ...(allowDowngrade ? { allowDowngrade: true } : {}) },
            confirm: { type: 'INSTALL_APK', count: deviceIds.length },
          },
        );
        return sent.commands.map((c) => ({ deviceId: c.deviceId, commandId: c.id }));
      },
      thresholds: async () => {
        const { thresholds } = await alertSettings.current();
        return { frameAgeMs: thresholds.frameAgeMs, offlineAfterSec: thresholds.offlineAfterSec };
      },
      gateDecided: (passed) => a.metrics.rolloutGates(passed ? 1 : 0, passed ? 0 : 1),
      alert: async (message) => {
        await alerts.alerts.raiseOperatorAlert(db, 'rollout_paused', { ...message, severity: 'critical', items: [] });
      },
    },
  });
  const { retention } = createRetention({ db, clock, logger, settings: config.retention });
  const consoleService = new ConsoleService({
    liveSource: a.liveSource,
    ...(config.firebaseWeb ? { firebase: config.firebaseWeb } : {}),
  });

  const { metrics } = a;
  /** Signs and pushes a command batch (the queue's consumer, in-process or Pub/Sub), counting the outcomes. */
  const dispatch = async (batchId: string) => countPushed(await commands.dispatcher.dispatchBatch(batchId));
  const countPushed = (r: DispatchReport) => {
    metrics.pushed({
      sent: r.sent,
      unregistered: r.unregistered,
      no_token: r.noToken,
      failed: r.failed,
      push_unavailable: r.pushUnavailable,
    });
    return r;
  };

  let openapi: unknown;
  // an admin signed in with a generated password may only change it (403 password_change_required)
  const routes: Route[] = admin.requirePasswordChange([
    ...systemRoutes(db, () => (openapi ??= buildOpenApi(routes, { version: VERSION, serverUrl: config.publicUrl }))),
    ...admin.routes,
    ...enrollment.routes,
    ...devices.routes,
    ...commands.routes,
    ...alerts.routes,
    ...auditRoutes,
    ...consoleRoutes(consoleService),
    ...fleetView.routes,
    ...catalog.routes,
    ...rollouts.routes,
    ...policies.routes,
    ...streamRoutes(a.liveStream),
    ...metricsRoutes(() => metrics.render()),
  ]);
  metrics.attach({
    heartbeats: () => devices.heartbeats.stats,
    rollouts: () => rolloutCounts(db),
    pool: () => a.dbPool,
    fleet: async () => {
      const now = clock.now();
      const { offlineAfterSec } = await liveView.thresholds();
      const [counts, compliance] = await Promise.all([
        fleetCounts(db, new Date(now.getTime() - offlineAfterSec * 1000), now),
        policies.convergence.counts(),
      ]);
      return { ...counts, compliance };
    },
  });

  const handle = createRouter(routes, {
    auth: {
      admin: (t) => admin.admins.authenticate(t),
      device: (t) => devices.devices.authenticate(t),
      apiToken: (t) => admin.apiTokens.authenticate(t),
      metrics: tokenDigestMatcher(config.metricsTokenSha256),
    },
    limiter: a.limiter,
    authFailures: a.authFailures,
    logger,
    metrics,
    accessLog: config.logRequests,
    traceProject: deps.traceProject,
  });

  /**
   * One run per interval fleet-wide: a job runs only on the instance that holds (or takes) its lease.
   * The lease lasts 1.5 intervals and its holder renews it each run, so another instance takes over
   * only once the holder missed a run; a run that fails lets go so the next one, anywhere, retries.
   */
  const leases = a.leases ?? noJobLeases;
  const leased = async <T>(job: string, everySec: number, run: () => Promise<T>): Promise<T | undefined> => {
    if (!(await leases.acquire(job, everySec * 1500))) return undefined;
    try {
      return await run();
    } catch (err) {
      await leases.release(job).catch(() => {});
      throw err;
    }
  };

  /**
   * Periodic upkeep (hourly in standalone, daily in Firebase): partitions ahead, stale rate-limit rows,
   * then retention - rollups caught up, old heartbeat partitions dropped, old rows pruned. Skipped
   * (an empty report, ran false) while another instance holds the maintenance lease.
   */
  const maintenance = async () => {
    const retained = await leased('maintenance', MAINTENANCE_LEASE_SEC, async () => {
      const created = await devices.ensurePartitions();
      const pruned = await a.limiter.prune();
      const report = await retention.run();
      logger.info('maintenance done', { partitionsCreated: created, rateLimitRowsPruned: pruned, ...report });
      return report;
    });
    return retained ? { ...retained, ran: true } : { ...NO_RETENTION, ran: false };
  };

  /**
   * The minute's work, on the instance holding the tick lease (undefined elsewhere): expire commands
   * nobody picked up, push batches whose claim went stale, then sweep, self-heal and notify.
   */
  const tick = () => leased('tick', config.sweepIntervalSec, runTick);
  const runTick = async () => {
    logger.debug('tick ran', { owner: leases.owner });
    const expired = await commands.expire();
    // authentication failures of the minutes that have ended, one audit entry per scope and address
    await a.authFailures.flush();
    const now = clock.now();
    await flushAuthFailures(db, new Date(Math.floor(now.getTime() / 60_000) * 60_000)).catch((err: unknown) =>
      logger.error('could not audit authentication failures', { err }),
    );
    // after expiry: a retiring device whose WIPE just expired is retired in the same minute
    const retired = await devices.lifecycle.finishRetiring();
    const stale = await commands.dispatcher.dispatchStale();
    if (stale.claimed) countPushed(stale);
    // rollouts before the alerts: a gate that fails puts its alert in the outbox this tick's delivery sends
    const rolled = await rollouts.tick().catch((err: unknown) => {
      logger.error('rollouts tick failed', { err });
      return null;
    });
    // overrides computed for a group their device has since left (a move) are brought up to date
    const policiesRefreshed = await policies.policies.refreshStale().catch((err: unknown) => {
      logger.error('policy refresh failed', { err });
      return 0;
    });
    if (policiesRefreshed) logger.info('policies refreshed', { rows: policiesRefreshed });
    const result = await alerts.tick();
    if (result.delivered) metrics.notified(result.delivered.sent, result.delivered.failed);
    metrics.commandsExpired(expired);
    metrics.alertsChanged(result.swept.opened, result.swept.resolved);
    if (result.healed) metrics.selfHealed(result.healed.commands, result.healed.escalations);
    if (expired || retired || result.swept.opened || result.swept.resolved || result.healed?.commands || result.delivered?.composed) {
      logger.info('tick', { commandsExpired: expired, devicesRetired: retired, ...result });
    }
    // the hour that just ended, so long charts are never more than an hour behind (maintenance catches up on more)
    const rolledUp = await retention.rollUp(1).catch((err: unknown) => {
      logger.error('heartbeat rollup failed', { err });
      return 0;
    });
    return { ...result, rolledUp, rollouts: rolled };
  };

  return {
    handle,
    routes,
    logger,
    maintenance,
    tick,
    dispatch,
    metrics,
    /** The contexts' services, for the hosts' start-up work and for tests. */
    services: {
      admins: admin.admins,
      users: admin.users,
      apiTokens: admin.apiTokens,
      enrollment: enrollment.enrollment,
      devices: devices.devices,
      heartbeats: devices.heartbeats,
      lifecycle: devices.lifecycle,
      audit,
      commands: commands.commands,
      dispatcher: commands.dispatcher,
      alerts: alerts.alerts,
      alertSettings,
      fleetView: liveView,
      retention,
      catalog: catalog.catalog,
      rollouts: rollouts.rollouts,
      rolloutEngine: rollouts.engine,
      policies: policies.policies,
      convergence: policies.convergence,
    },
  };
}

export type App = ReturnType<typeof createApp>;
