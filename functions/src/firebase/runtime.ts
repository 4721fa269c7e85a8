import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getApps, initializeApp, type App as FirebaseApp } from 'firebase-admin/app';
import type { Auth } from 'firebase-admin/auth';
import { InProcessQueue } from '../adapters/local/in-process-queue.js';
import { ChannelNotifier } from '../adapters/notifiers/channels.js';
import { DiscordNotifier } from '../adapters/notifiers/discord.js';
import { createEgressGuard } from '../adapters/egress/egress-guard.js';
import { CHANNEL_TESTS_PER_WINDOW } from '../alerts/index.js';
import { EmailNotifier } from '../adapters/notifiers/email.js';
import { PgFailureLimiter } from '../adapters/postgres/failure-limiter.js';
import { PgAuthFailureLog } from '../adapters/postgres/auth-failures.js';
import { PrometheusMetrics } from '../adapters/prometheus/prometheus.js';
import { WorkerSecretHasher } from '../adapters/workers/secret-hasher.js';
import { createApp, VERSION, type HostAdapters } from '../app.js';
import { checkSecrets } from '../admin/index.js';
import { systemClock } from '../core/clock.js';
import { noPush, type Push } from '../ports/push.js';
import { loadConfig } from '../config/config.js';
import { FirebaseConsoleTokens } from '../adapters/firestore/console-tokens.js';
import { openDatabase, type DatabaseHandle } from '../adapters/postgres/connect.js';
import { FcmPush } from '../adapters/fcm/fcm-push.js';
import { GcsBlobStore, type GcsBucket } from '../adapters/gcs/gcs-blob-store.js';
import { TempSpool } from '../adapters/local/temp-spool.js';
import { GuardedDownloader } from '../adapters/egress/download.js';
import { FirestoreMirror } from '../adapters/firestore/firestore-mirror.js';
import { createLogger } from '../adapters/logging/logger.js';
import { noMirror } from '../ports/mirror.js';
import { createPubSubQueue } from '../adapters/pubsub/pubsub-queue.js';
import * as params from './params.js';
import { poolMaxUnder, type FunctionName } from './plan.js';

export interface Runtime {
  app: FirebaseHostApp;
  database: DatabaseHandle;
}

export type FirebaseHostApp = Awaited<ReturnType<typeof build>>['app'];

let runtime: Promise<Runtime> | undefined;

/**
 * The app for this function instance, built on its first request and kept: one database pool per
 * instance, sized from the function's plan. Params and secrets are read here, at run time (they are
 * not available while Firebase analyses the code at deploy time).
 */
export function getRuntime(fn: FunctionName): Promise<Runtime> {
  runtime ??= build(fn).catch((err: unknown) => {
    runtime = undefined; // a failed start (database unreachable) is retried on the next request
    throw err;
  });
  return runtime;
}

async function build(fn: FunctionName) {
  // each instance's share of the database's connections (DB_CONNECTION_LIMIT), see plan.ts
  const plan = { poolMax: poolMaxUnder(fn, params.connectionLimit()) };
  // PORT belongs to the functions framework (a number deployed, something else in the emulator);
  // the app does not listen itself here, so it is left out rather than validated.
  const { PORT: _port, ...env } = process.env;
  const config = loadConfig({
    ...env,
    PUBLIC_URL: params.PUBLIC_URL.value(),
    DATABASE_URL: params.DATABASE_URL.value(),
    DB_POOL_MAX: String(plan.poolMax),
    JWT_SECRET: params.JWT_SECRET.value(),
    ENCRYPTION_KEY: params.ENCRYPTION_KEY.value(),
    DISCORD_WEBHOOK_URL: params.unset(params.DISCORD_WEBHOOK_URL.value()),
    SMTP_URL: params.unset(params.SMTP_URL.value()),
    METRICS_TOKEN: params.unset(params.METRICS_TOKEN.value()),
  });
  const logger = createLogger({ level: config.logLevel, base: { function: fn } });
  const instance = params.INSTANCE_CONNECTION_NAME.value();
  const database = instance
    ? await openDatabase(
        {
          kind: 'cloudsql',
          instanceConnectionName: instance,
          user: params.DB_USER.value(),
          password: params.unset(params.DB_PASSWORD.value()),
          database: params.DB_NAME.value(),
          ipType: params.DB_IP_TYPE.value() as 'PUBLIC' | 'PRIVATE' | 'PSC',
          iamAuth: params.DB_IAM_AUTH.value(),
          poolMax: plan.poolMax,
        },
        (err) => logger.warn('idle database connection failed', { err }),
      )
    : await openDatabase({ kind: 'postgres', url: required(config.databaseUrl), poolMax: plan.poolMax }, (err) =>
        logger.warn('idle database connection failed', { err }),
      );

  const firebase = getApps()[0] ?? initializeApp();
  // In the local emulator only Google services that are emulated are used: Firestore and Pub/Sub
  // only with their emulators, FCM never. Deployed, all are real. Each client is loaded when first
  // used, so a function builds only what it serves: the heartbeat function never loads FCM, Auth or
  // Pub/Sub, nor starts bcrypt workers (adapters/workers/secret-hasher.ts starts them on first use).
  const emulated = process.env.FUNCTIONS_EMULATOR === 'true';
  const firestore =
    emulated && !process.env.FIRESTORE_EMULATOR_HOST ? undefined : (await import('firebase-admin/firestore')).getFirestore(firebase);
  const localQueue = emulated && !process.env.PUBSUB_EMULATOR_HOST ? new InProcessQueue(logger) : undefined;
  const hasher = new WorkerSecretHasher(config.bcryptWorkers, config.bcryptQueuePerLane);
  // alert channels connect only to Discord's hosts and public addresses, unless configured otherwise
  const egress = createEgressGuard({ allow: config.egress.allow });
  const email = new EmailNotifier({ guard: egress });
  const adapters = {
    host: 'firebase',
    liveSource: 'firestore',
    mirror: firestore ? new FirestoreMirror(firestore) : noMirror,
    // the project's default Cloud Storage bucket, opened on the first catalog upload or download
    blobs: new GcsBlobStore(async () => (await import('firebase-admin/storage')).getStorage(firebase).bucket() as unknown as GcsBucket),
    // an upload arrives already buffered (rawBody) and is read in place; a release registered by URL
    // is spooled to the instance's temporary directory (in memory on Cloud Functions, like rawBody)
    spool: new TempSpool(join(tmpdir(), `fleet-mdm-uploads-${process.pid}`), false),
    downloader: new GuardedDownloader({ guard: egress, timeoutMs: config.uploads.urlTimeoutMs }),
    queue: localQueue ?? createPubSubQueue(),
    push: emulated ? noPush : lazyFcmPush(firebase),
    notifier: new ChannelNotifier({ discord: new DiscordNotifier({ allowedHosts: config.egress.discordHosts, guard: egress }), email }),
    consoleTokens: new FirebaseConsoleTokens(lazyAuth(firebase), logger),
    hasher,
    limiter: new PgFailureLimiter(database.db, systemClock, config.rateLimit.windowSec, {
      login: config.rateLimit.loginFailures,
      enroll: config.rateLimit.enrollFailures,
      session: config.rateLimit.sessionFailures,
      login_account: config.loginAccountFailures,
      // test messages an admin may send per window (each one reaches out of the network)
      channel_test: CHANNEL_TESTS_PER_WINDOW,
    }),
    authFailures: new PgAuthFailureLog(database.db, systemClock, logger),
    metrics: new PrometheusMetrics({ version: VERSION }),
    dbPool: database.stats,
  } satisfies HostAdapters;
  const secrets = { jwtSecret: required(config.jwtSecret), encryptionKey: Buffer.from(required(config.encryptionKey), 'base64') };
  // secrets other than the ones the database was written with: the function refuses to start (admin/secret-check.ts)
  await checkSecrets(database.db, secrets);
  const core = createApp({
    config,
    secrets,
    db: database.db,
    logger,
    adapters,
    // log lines link to Cloud Trace under the project the functions run in
    traceProject: process.env.GCLOUD_PROJECT ?? process.env.GOOGLE_CLOUD_PROJECT,
  });
  localQueue?.subscribe((m) => core.dispatch(m.batchId));
  const app = {
    ...core,
    adapters,
    close: async () => {
      await localQueue?.drain();
      await hasher.close();
      email.close();
    },
  };
  return { app, database };
}

/** FCM, loaded on the first push (only the dispatch and tick functions push). */
function lazyFcmPush(firebase: FirebaseApp): Push {
  let push: Promise<FcmPush> | undefined;
  return {
    available: true,
    send: async (messages) => {
      push ??= import('firebase-admin/messaging').then(({ getMessaging }) => new FcmPush(getMessaging(firebase)));
      return (await push).send(messages);
    },
  };
}

/** Firebase Auth, loaded on the first custom token (only the api function signs admins in). */
function lazyAuth(firebase: FirebaseApp): Pick<Auth, 'createCustomToken' | 'revokeRefreshTokens'> {
  let auth: Promise<Auth> | undefined;
  const get = () => (auth ??= import('firebase-admin/auth').then(({ getAuth }) => getAuth(firebase)));
  return {
    createCustomToken: async (uid, claims) => (await get()).createCustomToken(uid, claims),
    revokeRefreshTokens: async (uid) => (await get()).revokeRefreshTokens(uid),
  };
}

function required(value: string | undefined): string {
  if (!value) throw new Error('missing configuration: set INSTANCE_CONNECTION_NAME or DATABASE_URL, JWT_SECRET and ENCRYPTION_KEY');
  return value;
}
