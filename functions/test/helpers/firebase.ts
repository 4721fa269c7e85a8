import { randomBytes } from 'node:crypto';

/**
 * The environment the Firebase functions read their params and secrets from in these tests, as in the
 * emulator: no Google service is reached (FUNCTIONS_EMULATOR: no FCM, no Firestore, no Pub/Sub), and
 * with the Auth emulator's host set firebase-admin mints unsigned custom tokens locally.
 */
export const firebaseFunctionsEnv = (databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> => ({
  FUNCTIONS_EMULATOR: 'true',
  FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
  GCLOUD_PROJECT: 'demo-mdm',
  DATABASE_URL: databaseUrl,
  PUBLIC_URL: 'https://demo-mdm.web.app',
  JWT_SECRET: randomBytes(32).toString('hex'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  DB_PASSWORD: 'none',
  DISCORD_WEBHOOK_URL: 'none',
  SMTP_URL: 'none',
  METRICS_TOKEN: 'none',
  ADMIN_BCRYPT_ROUNDS: '4',
  DEVICE_SECRET_BCRYPT_ROUNDS: '4',
  ...extra,
});
