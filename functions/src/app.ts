import { readFileSync } from 'node:fs';
import { adminRoutes } from './admin/admin.routes.js';
import { apkRoutes } from './apk/apk.routes.js';
import { ApkService } from './apk/apk.service.js';
import { AdminService } from './admin/admin.service.js';
import { userRoutes } from './admin/users.routes.js';
import { UserService } from './admin/users.service.js';
import { auditRoutes } from './audit/audit.routes.js';
import { AuditService } from './audit/audit.service.js';
import type { Config } from './config/config.js';
import { AlertSettingsService, defaultSettings } from './alerts/alert-settings.js';
import { alertRoutes } from './alerts/alerts.routes.js';
import { AlertService } from './alerts/alerts.service.js';
import { AlertDelivery } from './alerts/delivery.js';
import { SelfHealing } from './alerts/self-healing.js';
import { consoleRoutes } from './console/console.routes.js';
import { ConsoleService } from './console/console.service.js';
import { commandRoutes } from './commands/commands.routes.js';
import { CommandService } from './commands/commands.service.js';
import { CommandDispatcher } from './commands/dispatcher.js';
import { deviceRoutes } from './devices/devices.routes.js';
import { DeviceMirror } from './devices/device-mirror.js';
import { ensureHeartbeatPartitions } from './devices/devices.repository.js';
import { DeviceService } from './devices/devices.service.js';
import { HeartbeatWriter } from './devices/heartbeat-writer.js';
import { enrollmentRoutes } from './enrollment/enrollment.routes.js';
import { EnrollmentService } from './enrollment/enrollment.service.js';
import { buildOpenApi } from './http/openapi.js';
import type { Route } from './http/route.js';
import { createRouter } from './http/router.js';
import { streamRoutes, systemRoutes } from './http/system.routes.js';
import { systemClock, type Clock } from './platform/clock.js';
import type { Db } from './platform/db/connect.js';
import type { Logger } from './platform/logger.js';
import type { Notifier } from './platform/notifier.js';
import { ChannelNotifier } from './platform/notifiers/channels.js';
import { DiscordNotifier } from './platform/notifiers/discord.js';
import { EmailNotifier } from './platform/notifiers/email.js';
import type { ConsoleTokens } from './platform/console-tokens.js';
import type { Mirror } from './platform/mirror.js';
import { noPush, type Push } from './platform/push.js';
import { SseMirror } from './platform/sse-mirror.js';
import { InProcessQueue, type Queue } from './platform/queue.js';
import { PgFailureLimiter } from './platform/rate-limit.js';
import { WorkerSecretHasher } from './platform/secret-hasher.js';
import { SessionTokens } from './platform/session-tokens.js';
import { tokenDigestMatcher } from './platform/crypto.js';
import type { PoolStats } from './platform/metrics.js';
import { PrometheusMetrics } from './platform/prometheus.js';
import { fleetCounts } from './observability/fleet-counts.repository.js';
import { metricsRoutes } from './observability/metrics.routes.js';
import { RetentionService } from './retention/retention.service.js';

/** Secrets come from a secret store (Firebase) or DATA_DIR (standalone), never from the database. */
export interface AppSecrets {
  jwtSecret: string;
  /** 32-byte AES key that seals device HMAC keys at rest. */
  encryptionKey: Buffer;
}

export interface AppDeps {
  config: Config;
  secrets: AppSecrets;
  db: Db;
  logger: Logger;
  clock?: Clock;
  /** Push adapter (FCM); without one, commands are delivered in heartbeat responses only. */
  push?: Push;
  /** Where new command batches go to be pushed; standalone runs them in-process. */
  queue?: Queue;
  /** Alert channels; Discord webhooks and SMTP e-mail by default. */
  notifier?: Notifier;
  /** The live view's store (Firestore in Firebase); standalone streams it as Server-Sent Events. */
  mirror?: Mirror;
  /** Firebase custom tokens for the console (Firebase deployments). */
  consoleTokens?: ConsoleTokens;
  /** The database pool's counters, for the pool gauges of /metrics (PostgreSQL only). */
  dbPool?: PoolStats | undefined;
  /** Google Cloud project, so log lines link to Cloud Trace. */
  traceProject?: string | undefined;
}

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/**
 * The composition root shared by the standalone server and the Firebase functions: services over
 * the ports, the route table and the request handler. No code below this branches on how it runs.
 */
export function createApp(deps: AppDeps) {
  const { config, secrets, db, logger, clock = systemClock, push = noPush, queue, notifier, mirror } = deps;
  const audit = new AuditService(db, clock);
  const alertSettings = new AlertSettingsService(db, clock, audit, defaultSettings(config), secrets.encryptionKey);
  const sse = mirror ? undefined : new SseMirror();
  const deviceMirror = new DeviceMirror(
    db,
    mirror ?? sse!,
    clock,
    async () => {
      const t = (await alertSettings.current()).thresholds;
      return { offlineAfterSec: t.offlineAfterSec, frozenAfterMs: t.frameAgeMs };
    },
    config.mirrorRefreshSec,
    logger,
  );
  const localQueue = queue ? undefined : new InProcessQueue(logger);
  const commands = new CommandService(db, clock, audit, queue ?? localQueue!, logger, {
    encryptionKey: secrets.encryptionKey,
    defaultTtlSec: config.commandTtlSec,
    maxPerHeartbeat: 20,
  });
  const dispatcher = new CommandDispatcher(db, push, clock, logger, {
    encryptionKey: secrets.encryptionKey,
    maxAttempts: config.push.maxAttempts,
    backoffMs: config.push.backoffMs,
    concurrency: config.push.concurrency,
  });
  const metrics = new PrometheusMetrics({ version: VERSION });
  /** Signs and pushes a command batch (the queue's consumer, in-process or Pub/Sub), counting the outcomes. */
  const dispatch = async (batchId: string) => {
    const r = await dispatcher.dispatchBatch(batchId);
    metrics.pushed({
      sent: r.sent,
      unregistered: r.unregistered,
      no_token: r.noToken,
      failed: r.failed,
      push_unavailable: r.pushUnavailable,
    });
    return r;
  };
  localQueue?.subscribe((m) => dispatch(m.batchId));
  const tokens = new SessionTokens(secrets.jwtSecret);
  const hasher = new WorkerSecretHasher(config.bcryptWorkers);
  const limiter = new PgFailureLimiter(db, clock, config.rateLimit.windowSec, {
    login: config.rateLimit.loginFailures,
    enroll: config.rateLimit.enrollFailures,
    session: config.rateLimit.sessionFailures,
    login_account: config.loginAccountFailures,
  });
  const admins = new AdminService(
    db,
    clock,
    tokens,
    hasher,
    audit,
    { sessionTtlSec: config.adminSessionTtlSec, bcryptRounds: config.adminBcryptRounds },
    deps.consoleTokens,
    limiter,
  );
  const enrollment = new EnrollmentService(db, clock, audit, hasher, {
    publicUrl: config.publicUrl,
    defaultTtlSec: config.enrollmentTokenTtlSec,
    heartbeatIntervalSec: config.heartbeatIntervalSec,
    deviceSecretBcryptRounds: config.deviceSecretBcryptRounds,
    encryptionKey: secrets.encryptionKey,
    agentPackage: config.agentPackage,
    agentAdminReceiver: config.agentAdminReceiver,
    afterEnroll: (id) => deviceMirror.tryPublish([id]),
  });
  const writer = new HeartbeatWriter(db, logger, {
    maxBatch: config.heartbeatBatchMax,
    maxInFlight: config.heartbeatWriteConcurrency,
    mirrorPolicy: (now) => deviceMirror.policy(now),
    onMirrorDue: (ids) => deviceMirror.publish(ids),
  });
  const devices = new DeviceService(db, clock, tokens, hasher, writer, commands, audit, deviceMirror, {
    sessionTtlSec: config.deviceSessionTtlSec,
    heartbeatIntervalSec: config.heartbeatIntervalSec,
    offlineAfterSec: async () => (await alertSettings.current()).thresholds.offlineAfterSec,
    bcryptRounds: config.deviceSecretBcryptRounds,
    rawRetentionDays: config.retention.heartbeatDays,
  });
  const retention = new RetentionService(db, clock, logger, config.retention);
  const email = new EmailNotifier();
  const channels = notifier ?? new ChannelNotifier({ discord: new DiscordNotifier(), email });
  const alerts = new AlertService(
    db,
    clock,
    audit,
    alertSettings,
    new SelfHealing(db, commands, audit, clock, logger),
    new AlertDelivery(db, channels, clock, logger, config.publicUrl),
    channels,
    deviceMirror,
    logger,
  );
  const apk = new ApkService(db, clock, audit, {
    publicUrl: config.publicUrl,
    agentPackage: config.agentPackage,
    agentAdminReceiver: config.agentAdminReceiver,
    maxBytes: config.apkMaxBytes,
  });
  const users = new UserService(db, clock, hasher, audit, config.adminBcryptRounds);
  const consoleService = new ConsoleService(db, clock, alertSettings, {
    liveSource: sse ? 'sse' : 'firestore',
    ...(config.firebaseWeb ? { firebase: config.firebaseWeb } : {}),
  });
  let openapi: unknown;
  const routes: Route[] = [
    ...systemRoutes(db, () => (openapi ??= buildOpenApi(routes, { version: VERSION, serverUrl: config.publicUrl }))),
    ...adminRoutes(admins, { secureCookie: config.publicUrl.startsWith('https:') }),
    ...enrollmentRoutes(enrollment),
    ...deviceRoutes(devices),
    ...commandRoutes(commands),
    ...alertRoutes(alerts),
    ...auditRoutes(audit),
    ...userRoutes(users),
    ...consoleRoutes(consoleService),
    ...apkRoutes(apk),
    ...streamRoutes(sse),
    ...metricsRoutes(() => metrics.render()),
  ];
  metrics.attach({
    heartbeats: () => writer.stats,
    pool: () => deps.dbPool,
    fleet: async () => {
      const now = clock.now();
      const offlineAfterSec = (await alertSettings.current()).thresholds.offlineAfterSec;
      return fleetCounts(db, new Date(now.getTime() - offlineAfterSec * 1000), now);
    },
  });
  const metricsToken = tokenDigestMatcher(config.metricsTokenSha256);

  const handle = createRouter(routes, {
    auth: {
      admin: (t) => admins.authenticate(t),
      device: (t) => devices.authenticate(t),
      metrics: metricsToken,
    },
    limiter,
    logger,
    metrics,
    accessLog: config.logRequests,
    traceProject: deps.traceProject,
  });

  /**
   * Periodic upkeep (hourly in standalone, daily in Firebase): partitions ahead, stale rate-limit rows,
   * then retention - rollups caught up, old heartbeat partitions dropped, old rows pruned.
   */
  const maintenance = async () => {
    const created = await ensureHeartbeatPartitions(db, new Date(clock.now().getTime() - 86_400_000), config.partitionsAheadDays + 1);
    const pruned = await limiter.prune();
    const retained = await retention.run();
    logger.info('maintenance done', { partitionsCreated: created, rateLimitRowsPruned: pruned, ...retained });
    return retained;
  };

  /** The minute's work: expire commands nobody picked up, then sweep, self-heal and notify. */
  const tick = async () => {
    const expired = await commands.expire();
    const result = await alerts.tick();
    if (result.delivered) metrics.notified(result.delivered.sent, result.delivered.failed);
    if (expired || result.swept.opened || result.swept.resolved || result.healed?.commands || result.delivered?.composed) {
      logger.info('tick', { commandsExpired: expired, ...result });
    }
    // the hour that just ended, so long charts are never more than an hour behind (maintenance catches up on more)
    const rolledUp = await retention.rollUp(1).catch((err: unknown) => {
      logger.error('heartbeat rollup failed', { err });
      return 0;
    });
    return { ...result, rolledUp };
  };

  /** Lets queued dispatches finish and stops the worker threads; the database is the caller's to close. */
  const close = async () => {
    await localQueue?.drain();
    await hasher.close();
    email.close();
  };

  return {
    handle,
    routes,
    logger,
    maintenance,
    tick,
    dispatch,
    close,
    metrics,
    services: {
      admins,
      enrollment,
      devices,
      audit,
      limiter,
      heartbeats: writer,
      commands,
      dispatcher,
      retention,
      queue: localQueue,
      alerts,
      alertSettings,
      mirror: deviceMirror,
      sse,
    },
  };
}

export type App = ReturnType<typeof createApp>;
