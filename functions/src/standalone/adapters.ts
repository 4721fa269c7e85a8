import { join } from 'node:path';
import { DiskBlobStore } from '../adapters/local/disk-blob-store.js';
import { TempSpool } from '../adapters/local/temp-spool.js';
import { GuardedDownloader } from '../adapters/egress/download.js';
import { InProcessQueue } from '../adapters/local/in-process-queue.js';
import { ChannelNotifier } from '../adapters/notifiers/channels.js';
import { DiscordNotifier } from '../adapters/notifiers/discord.js';
import { createEgressGuard } from '../adapters/egress/egress-guard.js';
import { CHANNEL_TESTS_PER_WINDOW } from '../alerts/index.js';
import { EmailNotifier } from '../adapters/notifiers/email.js';
import { PgFailureLimiter } from '../adapters/postgres/failure-limiter.js';
import { PgAuthFailureLog } from '../adapters/postgres/auth-failures.js';
import { PgJobLeases } from '../adapters/postgres/job-leases.js';
import { PgNotifyMirror } from '../adapters/postgres/pg-notify-mirror.js';
import { PrometheusMetrics } from '../adapters/prometheus/prometheus.js';
import { SseMirror } from '../adapters/sse/sse-mirror.js';
import { WorkerSecretHasher } from '../adapters/workers/secret-hasher.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { createApp, VERSION, type AppDeps, type HostAdapters } from '../app.js';
import { systemClock } from '../core/clock.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Spool } from '../ports/spool.js';
import { noConsoleTokens } from '../ports/console-tokens.js';
import type { PoolStats } from '../ports/metrics.js';
import type { Mirror } from '../ports/mirror.js';
import type { Notifier } from '../ports/notifier.js';
import { noPush, type Push } from '../ports/push.js';
import type { Queue } from '../ports/queue.js';

/** Adapters a caller may swap for its own (FCM when configured; recording fakes in tests). */
export interface StandaloneOverrides {
  push?: Push;
  queue?: Queue;
  mirror?: Mirror;
  notifier?: Notifier;
  /** Where APK files go (tests use a temporary directory); DATA_DIR/blobs otherwise. */
  blobs?: BlobStore;
  /** Where uploads wait while they are read; DATA_DIR/tmp/uploads otherwise. */
  spool?: Spool;
  /** Extra certificate authorities (PEM) the release downloader trusts: tests' own HTTPS listeners only. */
  downloadCa?: string;
  /** bcrypt (tests count or slow the checks). */
  hasher?: SecretHasher;
}

export interface StandaloneDeps extends Omit<AppDeps, 'adapters'> {
  dbPool?: PoolStats | undefined;
  overrides?: StandaloneOverrides;
}

/**
 * The standalone host's composition: the app over the standalone adapters - the console's live view
 * as Server-Sent Events, command batches pushed by an in-process queue, failure limits in
 * PostgreSQL, bcrypt in worker threads, Discord and e-mail channels, Prometheus metrics. The tests
 * build their apps here too, so they run the wiring the server runs.
 */
export function createStandaloneApp(deps: StandaloneDeps) {
  const { config, db, logger, clock = systemClock, overrides = {} } = deps;
  const sse = new SseMirror({
    onCut: (behindBytes) => logger.warn('console live stream cut: too far behind; it reconnects and reloads the fleet', { behindBytes }),
  });
  // several instances on one PostgreSQL: each one's live events reach the consoles of all (PGlite is one process)
  const shared = config.databaseUrl && !overrides.mirror ? new PgNotifyMirror(sse, { db, url: config.databaseUrl, logger }) : undefined;
  void shared?.start();
  const localQueue = overrides.queue ? undefined : new InProcessQueue(logger);
  // alert channels and release downloads connect only to public addresses (webhooks only to Discord's hosts), unless configured otherwise
  const egress = createEgressGuard({ allow: config.egress.allow });
  const email = new EmailNotifier({ guard: egress });
  const hasher = overrides.hasher ?? new WorkerSecretHasher(config.bcryptWorkers, config.bcryptQueuePerLane);
  const leases = new PgJobLeases(db, clock);
  const authFailures = new PgAuthFailureLog(db, clock, logger);
  const limiter = new PgFailureLimiter(db, clock, config.rateLimit.windowSec, {
    login: config.rateLimit.loginFailures,
    enroll: config.rateLimit.enrollFailures,
    session: config.rateLimit.sessionFailures,
    login_account: config.loginAccountFailures,
    // test messages an admin may send per window (each one reaches out of the network)
    channel_test: CHANNEL_TESTS_PER_WINDOW,
  });
  const adapters = {
    host: 'standalone',
    liveSource: overrides.mirror ? 'firestore' : 'sse',
    mirror: overrides.mirror ?? shared ?? sse,
    ...(overrides.mirror ? {} : { liveStream: sse }),
    blobs: overrides.blobs ?? new DiskBlobStore(join(config.dataDir, 'blobs')),
    spool: overrides.spool ?? new TempSpool(join(config.dataDir, 'tmp', 'uploads')),
    // releases registered by URL are fetched under the same egress policy as the alert channels
    downloader: new GuardedDownloader({ guard: egress, timeoutMs: config.uploads.urlTimeoutMs, ca: overrides.downloadCa }),
    queue: overrides.queue ?? localQueue!,
    push: overrides.push ?? noPush,
    notifier:
      overrides.notifier ??
      new ChannelNotifier({ discord: new DiscordNotifier({ allowedHosts: config.egress.discordHosts, guard: egress }), email }),
    consoleTokens: noConsoleTokens,
    hasher,
    limiter,
    authFailures,
    metrics: new PrometheusMetrics({ version: VERSION }),
    dbPool: deps.dbPool,
    leases,
  } satisfies HostAdapters;
  const app = createApp({ ...deps, clock, adapters });
  localQueue?.subscribe((m) => app.dispatch(m.batchId));

  /** Lets queued dispatches finish and stops the worker threads; the database is the caller's to close. */
  const close = async () => {
    await localQueue?.drain();
    await authFailures.flush();
    await hasher.close();
    await shared?.close();
    await leases.releaseAll().catch(() => {}); // another instance runs the jobs from its next tick
    email.close();
  };
  return { ...app, adapters: { ...adapters, sse, localQueue }, close };
}

export type StandaloneApp = ReturnType<typeof createStandaloneApp>;
