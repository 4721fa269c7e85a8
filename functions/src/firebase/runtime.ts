import { getApps, initializeApp } from 'firebase-admin/app';
import { createApp, type App } from '../app.js';
import { loadConfig } from '../config/config.js';
import { FirebaseConsoleTokens } from '../platform/console-tokens.js';
import { openDatabase, type DatabaseHandle } from '../platform/db/connect.js';
import { FcmPush } from '../platform/fcm-push.js';
import { FirestoreMirror } from '../platform/firestore-mirror.js';
import { createLogger } from '../platform/logger.js';
import { noMirror } from '../platform/mirror.js';
import { createPubSubQueue } from '../platform/pubsub-queue.js';
import * as params from './params.js';
import { PLAN, type FunctionName } from './plan.js';

export interface Runtime {
  app: App;
  database: DatabaseHandle;
}

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

async function build(fn: FunctionName): Promise<Runtime> {
  const plan = PLAN[fn];
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
  // only with their emulators, FCM never. Deployed, all are real.
  const emulated = process.env.FUNCTIONS_EMULATOR === 'true';
  const [{ getMessaging }, { getFirestore }, { getAuth }] = await Promise.all([
    import('firebase-admin/messaging'),
    import('firebase-admin/firestore'),
    import('firebase-admin/auth'),
  ]);
  const app = createApp({
    config,
    secrets: { jwtSecret: required(config.jwtSecret), encryptionKey: Buffer.from(required(config.encryptionKey), 'base64') },
    db: database.db,
    logger,
    ...(emulated ? {} : { push: new FcmPush(getMessaging(firebase)) }),
    ...(emulated && !process.env.PUBSUB_EMULATOR_HOST ? {} : { queue: createPubSubQueue() }),
    mirror: emulated && !process.env.FIRESTORE_EMULATOR_HOST ? noMirror : new FirestoreMirror(getFirestore(firebase)),
    consoleTokens: new FirebaseConsoleTokens(getAuth(firebase), logger),
    dbPool: database.pool,
    // log lines link to Cloud Trace under the project the functions run in
    traceProject: process.env.GCLOUD_PROJECT ?? process.env.GOOGLE_CLOUD_PROJECT,
  });
  return { app, database };
}

function required(value: string | undefined): string {
  if (!value) throw new Error('missing configuration: set INSTANCE_CONNECTION_NAME or DATABASE_URL, JWT_SECRET and ENCRYPTION_KEY');
  return value;
}
