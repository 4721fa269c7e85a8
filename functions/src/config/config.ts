import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseTrustedCidrs, type Cidr } from '../http/client-address.js';
import type { AlertDefaults } from '../alerts/index.js';

/**
 * Every setting the backend reads, declared once: the environment variable, its default and a
 * one-line description. `loadConfig` validates them at start-up; nothing else reads `process.env`.
 */
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = z.object({
  PORT: int(1, 65535, 8080).describe('TCP port of the standalone HTTP server.'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .describe('PostgreSQL connection URL; when unset the standalone server uses an embedded PGlite under DATA_DIR.'),
  DATA_DIR: z.string().min(1).default('./data').describe('Directory for the embedded database and generated secrets.'),
  DB_POOL_MAX: int(1, 500, 10).describe('Most PostgreSQL connections this process opens.'),
  HEARTBEAT_BATCH_MAX: int(1, 5000, 500).describe('Most heartbeats written by one statement (group commit).'),
  HEARTBEAT_WRITE_CONCURRENCY: int(1, 100, 4).describe('Most heartbeat statements in flight at once; keep it below DB_POOL_MAX.'),
  ADMIN_EMAIL: z.email().optional().describe('E-mail of the first admin, created on start when no admin exists.'),
  ADMIN_PASSWORD: z
    .string()
    .min(10)
    .max(72)
    .optional()
    .describe('Password of the first admin (10-72 characters); generated and printed once when unset in standalone mode.'),
  JWT_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe('Secret that signs admin and device session tokens (32+ characters); standalone generates one under DATA_DIR.'),
  ENCRYPTION_KEY: z
    .base64()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional()
    .describe('Key that encrypts device HMAC keys at rest (32 bytes, base64); standalone generates one under DATA_DIR.'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .regex(/^[^\s'"`\\$]+$/, 'must not contain spaces, quotes, backslashes or $')
    .optional()
    .describe('Base URL devices and scripts use to reach this server; default http://localhost:PORT.'),
  HEARTBEAT_INTERVAL_SEC: int(5, 86_400, 300).describe('Seconds between heartbeats that devices are told to keep.'),
  ALERT_OFFLINE_AFTER_SEC: int(30, 7 * 86_400, 720).describe('A device is online while its last contact is younger than this.'),
  MIRROR_REFRESH_SEC: int(60, 86_400, 3600).describe(
    "A device's live document is rewritten at least this often even when nothing visible changed.",
  ),
  CONSOLE_SERVER_QUERY_ABOVE: int(0, 1_000_000_000, 20_000).describe(
    'Above this many devices the fleet view filters, sorts and pages on the server instead of loading the whole fleet.',
  ),
  SWEEP_INTERVAL_SEC: int(1, 3600, 60).describe('Seconds between alert sweeps in standalone mode (Firebase runs it every minute).'),
  ALERT_LOW_BATTERY_PCT: int(1, 50, 15).describe('Default: a discharging device under this battery level alerts.'),
  ALERT_FRAME_AGE_MS: int(1000, 3_600_000, 30_000).describe('Default: a running kiosk app whose last frame is older than this is frozen.'),
  ALERT_HOLD_SEC: int(0, 86_400, 120).describe(
    'Default: a condition must hold this long before its alert opens (offline has its own threshold).',
  ),
  ALERT_COOLDOWN_SEC: int(0, 86_400, 900).describe('Default: a resolved alert does not reopen for the same device and kind within this.'),
  ALERT_DIGEST_WINDOW_SEC: int(0, 3600, 60).describe('Default: alerts of one kind and group within this window go out as one digest.'),
  ALERT_MAX_MESSAGES_PER_MIN: int(1, 600, 10).describe(
    'Default: messages per channel per minute; the rest are folded into the next digest.',
  ),
  REMEDIATION_DAILY_BUDGET: int(0, 100, 4).describe('Default: self-healing commands per device per 24 hours.'),
  REMEDIATION_STEP_TIMEOUT_SEC: int(60, 86_400, 600).describe('Default: how long a self-healing step may take before the next one.'),
  DISCORD_WEBHOOK_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('Default Discord webhook for alerts, until an admin saves settings.'),
  SMTP_URL: z
    .url({ protocol: /^smtps?$/ })
    .optional()
    .describe('Default SMTP server for alert e-mail (smtp://user:pass@host:587 or smtps://...).'),
  ALERT_EMAIL_TO: z
    .string()
    .regex(/^[^@\s,]+@[^@\s,]+(,[^@\s,]+@[^@\s,]+)*$/, 'comma-separated e-mail addresses')
    .optional()
    .describe('Default recipients of alert e-mail, comma-separated.'),
  ALERT_EMAIL_FROM: z.string().min(3).max(200).default('Fleet MDM <mdm@localhost>').describe('Sender of alert e-mail.'),
  DISCORD_WEBHOOK_HOSTS: z
    .string()
    .regex(/^[a-z0-9.-]+(\s*,\s*[a-z0-9.-]+)*$/i, 'comma-separated host names')
    .default('discord.com,discordapp.com,canary.discord.com,ptb.discord.com')
    .describe('Hosts a Discord webhook URL may point at; anything else is refused when saved and when sent.'),
  EGRESS_ALLOW_CIDRS: z
    .string()
    .max(4096)
    .optional()
    .describe(
      'Comma-separated addresses or CIDR ranges that webhooks and SMTP may connect to although they are loopback, private or link-local (an on-premises SMTP relay); every other such address is refused at connect time.',
    ),
  DEVICE_SESSION_TTL_SEC: int(300, 7 * 86_400, 6 * 3600).describe(
    'Lifetime of a device access token; the device opens a new session after it.',
  ),
  DEVICE_SECRET_BCRYPT_ROUNDS: int(4, 14, 6).describe('bcrypt cost for device secrets (256-bit random, so a low cost is safe).'),
  ADMIN_SESSION_TTL_SEC: int(300, 30 * 86_400, 12 * 3600).describe('Lifetime of an admin session token and cookie.'),
  ADMIN_BCRYPT_ROUNDS: int(4, 15, 11).describe('bcrypt cost for admin passwords.'),
  BCRYPT_WORKERS: int(1, 64, 1).describe('Worker threads that run bcrypt, off the event loop that serves heartbeats.'),
  BCRYPT_QUEUE_PER_LANE: int(1, 10_000, 256).describe(
    'bcrypt jobs that may wait per lane (device sessions, enrollments, admin sign-ins); more answer 503 with Retry-After. Device and enrollment lanes go first, so a full admin lane never delays them; 256 lets a provisioning burst or a fleet reconnecting at once wait instead of failing.',
  ),
  COMMAND_TTL_SEC: int(60, 30 * 86_400, 86_400).describe('Default lifetime of a command; undelivered ones expire after it.'),
  POLICY_ENVELOPE_TTL_SEC: int(60, 7 * 86_400, 3600).describe(
    'How long a signed policy document a device fetched is accepted by the device (docs/policies.md).',
  ),
  FCM_SERVICE_ACCOUNT: z
    .string()
    .min(1)
    .optional()
    .describe('Path of a Firebase service-account JSON file for FCM push (standalone); without it commands go out with heartbeats only.'),
  PUSH_MAX_ATTEMPTS: int(1, 10, 5).describe('Attempts per push message on FCM quota or server errors.'),
  PUSH_BACKOFF_MS: int(10, 60_000, 1000).describe('First retry delay for push; doubles each attempt.'),
  PUSH_CONCURRENCY: int(1, 64, 4).describe('FCM sendEach calls (500 messages each) in flight at once.'),
  ENROLLMENT_TOKEN_TTL_SEC: int(60, 90 * 86_400, 86_400).describe('Default lifetime of an enrollment token when the request names none.'),
  RATE_LIMIT_WINDOW_SEC: int(10, 86_400, 900).describe(
    'Window in which failed login, enroll and session attempts are counted per client address.',
  ),
  RATE_LIMIT_LOGIN_FAILURES: int(1, 100_000, 10).describe('Failed logins per address and window before 429.'),
  RATE_LIMIT_ENROLL_FAILURES: int(1, 100_000, 30).describe('Enrollments with an unknown token per address and window before 429.'),
  RATE_LIMIT_SESSION_FAILURES: int(1, 100_000, 30).describe(
    'Device session attempts with a wrong secret per address and window before 429.',
  ),
  TRUST_PROXY: bool(false).describe('Former switch, kept for compatibility: true is TRUST_PROXY_HOPS=1 (one proxy you run).'),
  TRUST_PROXY_HOPS: z.coerce
    .number()
    .int()
    .min(0)
    .max(16)
    .optional()
    .describe(
      'Proxies in front of the server that append to X-Forwarded-For; the client address is the entry that many from the right (0: the socket peer; unset: 1 when TRUST_PROXY is true, else 0; Firebase: 2).',
    ),
  TRUSTED_PROXY_CIDRS: z
    .string()
    .max(4096)
    .optional()
    .describe('Comma-separated addresses or CIDR ranges of proxies you run; X-Forwarded-For entries from them are skipped too.'),
  HOST: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Address the standalone server listens on (e.g. 127.0.0.1 behind a local proxy); unset: every interface, as before.'),
  HEARTBEAT_DEVICE_MAX_PER_MIN: int(1, 600, 30).describe(
    'Heartbeats one device may send per minute (per server instance); more answer 429 with Retry-After and are not stored. The default leaves room for the shortest interval SET_CONFIG allows (5 s: 12 a minute), PINGs and a buffered backlog.',
  ),
  HEARTBEAT_PARTITIONS_AHEAD_DAYS: int(1, 60, 7).describe('Daily heartbeat partitions created ahead of today.'),
  HEARTBEAT_RETENTION_DAYS: int(2, 3650, 30).describe(
    'Days of raw heartbeats kept; older daily partitions are dropped once rolled up into hourly rollups.',
  ),
  ROLLUP_RETENTION_DAYS: int(7, 3650, 400).describe(
    'Days of hourly heartbeat rollups (min/avg/max battery, memory, storage; uptime) kept for long charts; dropped by whole months.',
  ),
  COMMAND_RETENTION_DAYS: int(1, 3650, 90).describe(
    'Days a finished command (succeeded, failed, rejected, expired) and its push attempts are kept.',
  ),
  NOTIFICATION_RETENTION_DAYS: int(1, 3650, 90).describe('Days a sent or dropped alert message is kept.'),
  DOWNLOAD_RETENTION_DAYS: int(1, 3650, 365).describe('Days an agent APK download record is kept.'),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\w.~+/=-]{32,512}$/, '32-512 characters of A-Z a-z 0-9 _ . ~ + / = -')
    .optional()
    .describe('Bearer token Prometheus sends to GET /metrics (32+ random characters); unset: /metrics answers 401 to everyone.'),
  LOG_REQUESTS: z
    .enum(['all', 'errors', 'none'])
    .default('errors')
    .describe('Access-log lines (with httpRequest): every request, only failed (4xx/5xx) and slow (1 s+) ones, or none.'),
  RATE_LIMIT_LOGIN_ACCOUNT_FAILURES: int(1, 100_000, 5).describe(
    'Failed logins for one account from one address per window before 429 (audited).',
  ),
  RATE_LIMIT_LOGIN_ACCOUNT_ANY_FAILURES: int(1, 100_000, 50).describe(
    'Sign-in attempts on one account from all addresses together per window before 429; the last 5 addresses the admin signed in from are exempt.',
  ),
  AGENT_PACKAGE: z
    .string()
    .regex(/^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/)
    .default('dev.fleetmdm.agent')
    .describe('Android package name of the agent, used in ADB scripts.'),
  APK_MAX_BYTES: int(1024 * 1024, 512 * 1024 * 1024, 32 * 1024 * 1024).describe(
    'Largest APK the app catalog accepts in one upload - every release, the agent and the kiosk apps alike (Firebase functions take at most 32 MiB).',
  ),
  UPLOADS_MAX_CONCURRENT: int(1, 1000, 4).describe(
    'Catalog uploads and registrations by URL this instance reads at once (each is spooled to a temporary file); more are answered 429 with Retry-After.',
  ),
  UPLOADS_MAX_PER_CALLER: int(1, 100, 1).describe(
    'Catalog uploads and registrations by URL one admin or API token may have in progress at once on this instance; more are answered 429.',
  ),
  RELEASE_URL_TIMEOUT_SEC: int(5, 3600, 120).describe(
    'Longest a registration by https URL may take to download its APK (connect, answer and body) before it fails as download_failed.',
  ),
  AGENT_ADMIN_RECEIVER: z
    .string()
    .regex(/^\.?[a-zA-Z][\w.]*$/)
    .default('.AdminReceiver')
    .describe("The agent's DeviceAdminReceiver class (relative to AGENT_PACKAGE when it starts with a dot)."),
  CONSOLE_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Directory of the built admin console the standalone server serves at / (default: web/build in this repository).'),
  CONSOLE_FIREBASE_API_KEY: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      "Firebase web app's apiKey, for the console's live view from Firestore (Firebase deployments). Standalone still reads the former FIREBASE_WEB_* names, which a Firebase deploy refuses (reserved prefix).",
    ),
  CONSOLE_FIREBASE_AUTH_DOMAIN: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("Firebase web app's authDomain (e.g. my-project.firebaseapp.com)."),
  CONSOLE_FIREBASE_PROJECT_ID: z.string().min(1).max(200).optional().describe("Firebase web app's projectId."),
  CONSOLE_FIREBASE_APP_ID: z.string().min(1).max(200).optional().describe("Firebase web app's appId."),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Least severe log level written.'),
});

export type ConfigEnv = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

export interface Config {
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolMax: number;
  heartbeatBatchMax: number;
  heartbeatWriteConcurrency: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  jwtSecret: string | undefined;
  encryptionKey: string | undefined;
  publicUrl: string;
  heartbeatIntervalSec: number;
  offlineAfterSec: number;
  sweepIntervalSec: number;
  mirrorRefreshSec: number;
  /** CONSOLE_SERVER_QUERY_ABOVE: above this many devices the fleet view queries the server (docs/fleet-query.md). */
  consoleServerQueryAbove: number;
  /** The alerts context's defaults (its AlertDefaults, apart from the offline threshold above). */
  alertDefaults: Omit<AlertDefaults, 'offlineAfterSec'>;
  deviceSessionTtlSec: number;
  deviceSecretBcryptRounds: number;
  adminSessionTtlSec: number;
  adminBcryptRounds: number;
  bcryptWorkers: number;
  bcryptQueuePerLane: number;
  enrollmentTokenTtlSec: number;
  commandTtlSec: number;
  policyEnvelopeTtlSec: number;
  retention: { heartbeatDays: number; rollupDays: number; commandDays: number; notificationDays: number; downloadDays: number };
  /** SHA-256 of METRICS_TOKEN: the token itself is not kept once the configuration is read. */
  metricsTokenSha256: Buffer | undefined;
  logRequests: Parsed['LOG_REQUESTS'];
  loginAccountFailures: number;
  loginAccountAnyFailures: number;
  fcmServiceAccount: string | undefined;
  push: { maxAttempts: number; backoffMs: number; concurrency: number };
  rateLimit: { windowSec: number; loginFailures: number; enrollFailures: number; sessionFailures: number };
  trustProxy: boolean;
  /** Proxies trusted to append to X-Forwarded-For (TRUST_PROXY_HOPS, or 1 for TRUST_PROXY=true) and their ranges. */
  proxy: { hops: number; cidrs: Cidr[] };
  /** Where alert channels may connect: Discord's hosts, and the internal ranges opened on purpose. */
  egress: { discordHosts: string[]; allow: Cidr[] };
  /** Listen address of the standalone server; undefined: every interface. */
  host: string | undefined;
  heartbeatDeviceMaxPerMin: number;
  partitionsAheadDays: number;
  agentPackage: string;
  agentAdminReceiver: string;
  apkMaxBytes: number;
  /** Uploads (and registrations by URL) read at once: by the instance, and by one caller. */
  uploads: { maxConcurrent: number; maxPerCaller: number; urlTimeoutMs: number };
  consoleDir: string | undefined;
  /** The Firebase web app the console signs in to (all four CONSOLE_FIREBASE_* keys), or undefined. */
  firebaseWeb: { apiKey: string; authDomain: string; projectId: string; appId: string } | undefined;
  logLevel: Parsed['LOG_LEVEL'];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment once. Empty strings count as unset. Throws ConfigError naming each bad key. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key] ?? env[FORMER_NAMES[key] ?? ''];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration - ${problems.join('; ')}`);
  }
  const c = result.data;
  return {
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    dataDir: c.DATA_DIR,
    dbPoolMax: c.DB_POOL_MAX,
    heartbeatBatchMax: c.HEARTBEAT_BATCH_MAX,
    heartbeatWriteConcurrency: c.HEARTBEAT_WRITE_CONCURRENCY,
    adminEmail: c.ADMIN_EMAIL?.toLowerCase(),
    adminPassword: c.ADMIN_PASSWORD,
    jwtSecret: c.JWT_SECRET,
    encryptionKey: c.ENCRYPTION_KEY,
    publicUrl: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    heartbeatIntervalSec: c.HEARTBEAT_INTERVAL_SEC,
    offlineAfterSec: c.ALERT_OFFLINE_AFTER_SEC,
    sweepIntervalSec: c.SWEEP_INTERVAL_SEC,
    mirrorRefreshSec: c.MIRROR_REFRESH_SEC,
    consoleServerQueryAbove: c.CONSOLE_SERVER_QUERY_ABOVE,
    alertDefaults: {
      lowBatteryPct: c.ALERT_LOW_BATTERY_PCT,
      frameAgeMs: c.ALERT_FRAME_AGE_MS,
      holdSec: c.ALERT_HOLD_SEC,
      cooldownSec: c.ALERT_COOLDOWN_SEC,
      digestWindowSec: c.ALERT_DIGEST_WINDOW_SEC,
      maxMessagesPerMinute: c.ALERT_MAX_MESSAGES_PER_MIN,
      dailyBudget: c.REMEDIATION_DAILY_BUDGET,
      stepTimeoutSec: c.REMEDIATION_STEP_TIMEOUT_SEC,
      discordWebhookUrl: c.DISCORD_WEBHOOK_URL,
      smtpUrl: c.SMTP_URL,
      emailTo: c.ALERT_EMAIL_TO ? c.ALERT_EMAIL_TO.split(',') : [],
      emailFrom: c.ALERT_EMAIL_FROM,
    },
    deviceSessionTtlSec: c.DEVICE_SESSION_TTL_SEC,
    deviceSecretBcryptRounds: c.DEVICE_SECRET_BCRYPT_ROUNDS,
    adminSessionTtlSec: c.ADMIN_SESSION_TTL_SEC,
    adminBcryptRounds: c.ADMIN_BCRYPT_ROUNDS,
    bcryptWorkers: c.BCRYPT_WORKERS,
    bcryptQueuePerLane: c.BCRYPT_QUEUE_PER_LANE,
    enrollmentTokenTtlSec: c.ENROLLMENT_TOKEN_TTL_SEC,
    commandTtlSec: c.COMMAND_TTL_SEC,
    policyEnvelopeTtlSec: c.POLICY_ENVELOPE_TTL_SEC,
    retention: {
      heartbeatDays: c.HEARTBEAT_RETENTION_DAYS,
      rollupDays: c.ROLLUP_RETENTION_DAYS,
      commandDays: c.COMMAND_RETENTION_DAYS,
      notificationDays: c.NOTIFICATION_RETENTION_DAYS,
      downloadDays: c.DOWNLOAD_RETENTION_DAYS,
    },
    metricsTokenSha256: c.METRICS_TOKEN === undefined ? undefined : createHash('sha256').update(c.METRICS_TOKEN).digest(),
    logRequests: c.LOG_REQUESTS,
    loginAccountFailures: c.RATE_LIMIT_LOGIN_ACCOUNT_FAILURES,
    loginAccountAnyFailures: c.RATE_LIMIT_LOGIN_ACCOUNT_ANY_FAILURES,
    fcmServiceAccount: c.FCM_SERVICE_ACCOUNT,
    push: { maxAttempts: c.PUSH_MAX_ATTEMPTS, backoffMs: c.PUSH_BACKOFF_MS, concurrency: c.PUSH_CONCURRENCY },
    rateLimit: {
      windowSec: c.RATE_LIMIT_WINDOW_SEC,
      loginFailures: c.RATE_LIMIT_LOGIN_FAILURES,
      enrollFailures: c.RATE_LIMIT_ENROLL_FAILURES,
      sessionFailures: c.RATE_LIMIT_SESSION_FAILURES,
    },
    trustProxy: c.TRUST_PROXY,
    proxy: { hops: c.TRUST_PROXY_HOPS ?? (c.TRUST_PROXY ? 1 : 0), cidrs: trustedCidrs(c.TRUSTED_PROXY_CIDRS) },
    host: c.HOST,
    egress: egressPolicy(c),
    heartbeatDeviceMaxPerMin: c.HEARTBEAT_DEVICE_MAX_PER_MIN,
    partitionsAheadDays: c.HEARTBEAT_PARTITIONS_AHEAD_DAYS,
    agentPackage: c.AGENT_PACKAGE,
    agentAdminReceiver: c.AGENT_ADMIN_RECEIVER,
    apkMaxBytes: c.APK_MAX_BYTES,
    uploads: {
      maxConcurrent: c.UPLOADS_MAX_CONCURRENT,
      maxPerCaller: c.UPLOADS_MAX_PER_CALLER,
      urlTimeoutMs: c.RELEASE_URL_TIMEOUT_SEC * 1000,
    },
    consoleDir: c.CONSOLE_DIR,
    firebaseWeb: firebaseWeb(c),
    logLevel: c.LOG_LEVEL,
  };
}

const CONSOLE_FIREBASE_KEYS = [
  'CONSOLE_FIREBASE_API_KEY',
  'CONSOLE_FIREBASE_AUTH_DOMAIN',
  'CONSOLE_FIREBASE_PROJECT_ID',
  'CONSOLE_FIREBASE_APP_ID',
] as const;

/**
 * Keys read under a former name when the current one is unset. FIREBASE_WEB_* became
 * CONSOLE_FIREBASE_*: Firebase refuses environment variables starting with FIREBASE_.
 */
const FORMER_NAMES: Record<string, string> = Object.fromEntries(
  CONSOLE_FIREBASE_KEYS.map((k) => [k, k.replace('CONSOLE_FIREBASE_', 'FIREBASE_WEB_')]),
);

function firebaseWeb(c: Parsed): Config['firebaseWeb'] {
  const missing = CONSOLE_FIREBASE_KEYS.filter((k) => c[k] === undefined);
  if (missing.length === CONSOLE_FIREBASE_KEYS.length) return undefined;
  if (missing.length > 0)
    throw new ConfigError(`invalid configuration - set all CONSOLE_FIREBASE_* keys or none; missing ${missing.join(', ')}`);
  return {
    apiKey: c.CONSOLE_FIREBASE_API_KEY!,
    authDomain: c.CONSOLE_FIREBASE_AUTH_DOMAIN!,
    projectId: c.CONSOLE_FIREBASE_PROJECT_ID!,
    appId: c.CONSOLE_FIREBASE_APP_ID!,
  };
}

function egressPolicy(c: {
  DISCORD_WEBHOOK_HOSTS: string;
  EGRESS_ALLOW_CIDRS?: string | undefined;
  DISCORD_WEBHOOK_URL?: string | undefined;
}) {
  const discordHosts = c.DISCORD_WEBHOOK_HOSTS.split(',').map((h) => h.trim().toLowerCase());
  if (c.DISCORD_WEBHOOK_URL && !discordHosts.includes(new URL(c.DISCORD_WEBHOOK_URL).hostname.toLowerCase())) {
    throw new ConfigError(
      `invalid configuration - DISCORD_WEBHOOK_URL: its host is not one of DISCORD_WEBHOOK_HOSTS (${discordHosts.join(', ')})`,
    );
  }
  let allow: Cidr[];
  try {
    allow = parseTrustedCidrs(c.EGRESS_ALLOW_CIDRS ?? '');
  } catch (err) {
    throw new ConfigError(`invalid configuration - EGRESS_ALLOW_CIDRS: ${(err as Error).message}`);
  }
  return { discordHosts, allow };
}

function trustedCidrs(list: string | undefined): Cidr[] {
  try {
    return parseTrustedCidrs(list ?? '');
  } catch (err) {
    throw new ConfigError(`invalid configuration - TRUSTED_PROXY_CIDRS: ${(err as Error).message}`);
  }
}

/** `KEY  default  description` rows, for docs and `--help`. */
export function describeConfig(): { key: string; defaultValue: string; description: string }[] {
  return Object.entries(configSchema.shape).map(([key, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
    return { key, defaultValue: fallback, description: schema.description ?? '' };
  });
}

/** docs/configuration.md, rendered from the schema; a test keeps the file in step. */
export function renderConfigDocs(): string {
  const rows = describeConfig().map(
    (c) => `| \`${c.key}\` | ${c.defaultValue === '' ? '-' : `\`${c.defaultValue}\``} | ${c.description.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Configuration',
    '',
    'Every setting is an environment variable, validated once at start-up; an invalid value stops the',
    'server with a message naming the key. Empty values count as unset. This file is generated from',
    '`functions/src/config/config.ts` (`UPDATE_DOCS=1 npx vitest run src/config/config-docs.test.ts` in',
    '`functions/`); a test fails when the two differ.',
    '',
    '| variable | default | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
