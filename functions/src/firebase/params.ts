import { defineBoolean, defineInt, defineSecret, defineString } from 'firebase-functions/params';

/**
 * Every parameter and secret of the Firebase deployment, declared once. Secrets live in Secret
 * Manager (`firebase functions:secrets:set NAME`); parameters are asked for on the first deploy and
 * kept in functions/.env.<project>. The rest of the configuration (thresholds, rate limits ...) is
 * read from the same variables as standalone (docs/configuration.md), set in that .env file too.
 */
export const REGION = defineString('REGION', {
  default: 'europe-west1',
  description: 'Region of the functions (and best of the Cloud SQL instance).',
});
export const PUBLIC_URL = defineString('PUBLIC_URL', {
  description: 'The Hosting URL devices and the console use, e.g. https://fleet-mdm-prod.web.app',
});

export const INSTANCE_CONNECTION_NAME = defineString('INSTANCE_CONNECTION_NAME', {
  default: '',
  description: 'Cloud SQL instance (project:region:instance); empty: use DATABASE_URL.',
});
export const DATABASE_URL = defineString('DATABASE_URL', {
  default: '',
  description: 'PostgreSQL URL when not on Cloud SQL (the emulator).',
});
export const DB_NAME = defineString('DB_NAME', { default: 'mdm', description: 'Database name on the Cloud SQL instance.' });
export const DB_USER = defineString('DB_USER', {
  default: 'mdm',
  description: 'Database user (with IAM auth: the service account, without .gserviceaccount.com).',
});
export const DB_IAM_AUTH = defineBoolean('DB_IAM_AUTH', {
  default: true,
  description: 'IAM database authentication instead of DB_PASSWORD.',
});
export const DB_IP_TYPE = defineString('DB_IP_TYPE', { default: 'PUBLIC', description: 'How to reach Cloud SQL: PUBLIC, PRIVATE or PSC.' });
export const DB_CONNECTION_LIMIT = defineInt('DB_CONNECTION_LIMIT', {
  default: 100,
  description: "The database's max_connections (at least 10); the functions' pools stay under it (see firebase/plan.ts).",
});
/** The limit the pools are sized under: DB_CONNECTION_LIMIT, or its default where no deploy set it (tests). */
export const connectionLimit = (): number => (process.env.DB_CONNECTION_LIMIT ? DB_CONNECTION_LIMIT.value() : 100);
export const VPC_CONNECTOR = defineString('VPC_CONNECTOR', {
  default: '',
  description:
    'Serverless VPC Access connector (name or projects/.../connectors/NAME) for DB_IP_TYPE PRIVATE or PSC; empty: none. Only private ranges go through it.',
});

/**
 * Behind Firebase Hosting the function sees `X-Forwarded-For: <anything the client sent>, <client>,
 * <Google front end>`: Hosting's edge appends the client it accepted and Google's front end appends
 * one more hop, so the client is the second entry from the right (docs/operations.md, Security model).
 */
export const FIREBASE_PROXY_HOPS = 2;
export const TRUST_PROXY_HOPS = defineInt('TRUST_PROXY_HOPS', {
  default: FIREBASE_PROXY_HOPS,
  description: 'Proxies that append to X-Forwarded-For in front of the functions (Hosting and the Google front end: 2).',
});
/** The hop count in effect: the parameter, or the Firebase default where none was written (the emulator, tests). */
export const proxyHops = (): number => (process.env.TRUST_PROXY_HOPS ? TRUST_PROXY_HOPS.value() : FIREBASE_PROXY_HOPS);

export const JWT_SECRET = defineSecret('JWT_SECRET');
export const ENCRYPTION_KEY = defineSecret('ENCRYPTION_KEY');
/** Only with DB_IAM_AUTH=false; otherwise set it to "none". */
export const DB_PASSWORD = defineSecret('DB_PASSWORD');
/** Default alert channels until an admin sets them in the console; "none" when unused. */
export const DISCORD_WEBHOOK_URL = defineSecret('DISCORD_WEBHOOK_URL');
export const SMTP_URL = defineSecret('SMTP_URL');
/** The bearer token Prometheus sends to /metrics; "none" leaves /metrics closed. */
export const METRICS_TOKEN = defineSecret('METRICS_TOKEN');

export const ALL_SECRETS = [JWT_SECRET, ENCRYPTION_KEY, DB_PASSWORD, DISCORD_WEBHOOK_URL, SMTP_URL, METRICS_TOKEN];

/** A secret deliberately left unset ("none", or empty). */
export const unset = (value: string): string | undefined => (value === '' || value === 'none' ? undefined : value);
