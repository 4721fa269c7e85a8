import { parseArgs } from 'node:util';
import type { EnrollmentSource } from './enroll.js';
import type { FleetOptions } from './fleet.js';
import type { ProgressMode } from './progress.js';
import { DEFAULT_APP } from './virtual-device.js';

export const HELP = `Usage: npm run simulate -- --devices N [options]

Simulates a fleet of Android kiosks speaking device protocol v1 to an MDM server.

Server and enrollment
  --url URL               server base URL (default: $MDM_URL or http://localhost:8080)
  --token T               enrollment token to use (create it with maxUses >= N)
  --email E               admin e-mail to create a token with (default: $MDM_EMAIL or admin@localhost)
  --password P            admin password (default: $MDM_PASSWORD)
  --admin-token T         admin session token instead of e-mail and password
  --group G               group for devices enrolled with a token created here
  --state FILE            keep enrolled devices in FILE and reuse them on the next run

Fleet
  --devices N             number of devices (required)
  --interval-sec S        seconds between heartbeats, +-10% jitter (default 300)
  --obey-server-interval  follow the server's nextHeartbeatSec instead of --interval-sec
  --mains-powered F       share of devices plugged in for good, 0..1 (default 0: all cycle on battery)
  --time-scale K          device time runs K times faster than the wall clock (default 1):
                          --interval-sec 5 --time-scale 60 drains batteries like 5-minute beats
  --app PACKAGE           kiosk app package (default ${DEFAULT_APP.package})
  --chaos L               fault level: 0 steady, 1 realistic rare faults (default), higher more
  --app-version-code N    the kiosk app's versionCode at start (default ${DEFAULT_APP.versionCode})
  --crash-version-code N  crash model: devices running this versionCode of the app crash-loop ...
  --crash-share F         ... this share of them, 0..1 (default 0.2 when --crash-version-code is set)
  --policy-fail ITEM:SHARE        that share (0..1) of devices report policy item ITEM failed
  --policy-unsupported ITEM:SHARE that share of devices report ITEM unsupported on their API level
  --seed N                seed of the random generator (default 1): same seed, same fleet
  --showcase              the first five devices each show one state for good: offline (after one
                          beat), low battery, app down (crash loop), app frozen, and an app that
                          stays down until a RELAUNCH_APP (self-healing) brings it back

Load
  --concurrency N         enrollments and first sessions at once (default 32)
  --max-sockets N         keep-alive connections to the server (default 128)
  --timeout-ms MS         request timeout (default 10000)

Run
  --duration SEC          stop after SEC seconds (default: until Ctrl-C)
  --progress MODE         auto (default), tty, plain (a line every 10 s) or off
  --json-summary FILE     also write the summary as JSON
  --fail-on-error         exit 1 when any request failed
  --help                  this text
`;

export class UsageError extends Error {}

export type CliCommand =
  { kind: 'help' } | { kind: 'run'; fleet: FleetOptions; progress: ProgressMode | 'auto'; jsonSummary?: string; failOnError: boolean };

const PACKAGE_NAME = /^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/;
const PROGRESS_MODES = ['auto', 'tty', 'plain', 'off'] as const;

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: false, options: CLI_OPTIONS });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.devices === undefined) throw new UsageError('--devices is required');
  const url = v.url ?? env.MDM_URL ?? 'http://localhost:8080';
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
  const appPackage = v.app ?? DEFAULT_APP.package;
  if (!PACKAGE_NAME.test(appPackage)) throw new UsageError(`--app must be an Android package name, got ${appPackage}`);
  const progress = v.progress ?? 'auto';
  if (!isProgressMode(progress)) throw new UsageError(`--progress must be one of ${PROGRESS_MODES.join(', ')}`);
  const fleet: FleetOptions = {
    url,
    devices: integer('--devices', v.devices, 1, 100_000),
    intervalSec: number('--interval-sec', v['interval-sec'] ?? '300', 0.1, 86_400),
    concurrency: integer('--concurrency', v.concurrency ?? '32', 1, 10_000),
    maxSockets: integer('--max-sockets', v['max-sockets'] ?? '128', 1, 65_535),
    timeoutMs: integer('--timeout-ms', v['timeout-ms'] ?? '10000', 100, 600_000),
    chaos: number('--chaos', v.chaos ?? '1', 0, 1_000),
    seed: integer('--seed', v.seed ?? '1', 0, 2 ** 32 - 1),
    appPackage,
    enrollment: enrollmentSource(v, env),
    durationSec: v.duration === undefined ? undefined : number('--duration', v.duration, 0.1, 365 * 86_400),
    stateFile: v.state,
    obeyServerInterval: v['obey-server-interval'] ?? false,
    mainsPowered: number('--mains-powered', v['mains-powered'] ?? '0', 0, 1),
    timeScale: number('--time-scale', v['time-scale'] ?? '1', 0.001, 10_000),
  };
  if (v.showcase) fleet.showcase = true;
  if (v['app-version-code'] !== undefined) fleet.appVersionCode = integer('--app-version-code', v['app-version-code'], 1, 2_100_000_000);
  if (v['crash-share'] !== undefined && v['crash-version-code'] === undefined)
    throw new UsageError('--crash-share needs --crash-version-code');
  if (v['crash-version-code'] !== undefined) {
    fleet.crash = {
      versionCode: integer('--crash-version-code', v['crash-version-code'], 1, 2_100_000_000),
      share: number('--crash-share', v['crash-share'] ?? '0.2', 0, 1),
    };
  }
  const failed = policyFault('--policy-fail', v['policy-fail']);
  const unsupported = policyFault('--policy-unsupported', v['policy-unsupported']);
  if (failed || unsupported) fleet.policyFaults = { failed, unsupported };
  const command: CliCommand = { kind: 'run', fleet, progress, failOnError: v['fail-on-error'] ?? false };
  if (v['json-summary'] !== undefined) command.jsonSummary = v['json-summary'];
  return command;
}

const CLI_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  'admin-token': { type: 'string' },
  group: { type: 'string' },
  state: { type: 'string' },
  devices: { type: 'string' },
  'interval-sec': { type: 'string' },
  'obey-server-interval': { type: 'boolean' },
  'time-scale': { type: 'string' },
  'mains-powered': { type: 'string' },
  app: { type: 'string' },
  'app-version-code': { type: 'string' },
  'crash-version-code': { type: 'string' },
  'crash-share': { type: 'string' },
  showcase: { type: 'boolean' },
  chaos: { type: 'string' },
  'policy-fail': { type: 'string' },
  'policy-unsupported': { type: 'string' },
  seed: { type: 'string' },
  concurrency: { type: 'string' },
  'max-sockets': { type: 'string' },
  'timeout-ms': { type: 'string' },
  duration: { type: 'string' },
  progress: { type: 'string' },
  'json-summary': { type: 'string' },
  'fail-on-error': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof CLI_OPTIONS }>>['values'];

function enrollmentSource(v: Values, env: NodeJS.ProcessEnv): EnrollmentSource {
  if (v.token !== undefined) return { kind: 'token', token: v.token };
  const source: EnrollmentSource = {
    kind: 'admin',
    email: v.email ?? env.MDM_EMAIL ?? 'admin@localhost',
    password: v.password ?? env.MDM_PASSWORD ?? '',
  };
  if (v['admin-token'] !== undefined) source.adminToken = v['admin-token'];
  if (v.group !== undefined) source.group = v.group;
  return source;
}

/** ITEM:SHARE, e.g. lockTaskFeatures:0.2. */
function policyFault(name: string, text: string | undefined): { item: string; share: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9_]*):(.+)$/.exec(text);
  if (!m) throw new UsageError(`${name} must be ITEM:SHARE (a policy field and a share from 0 to 1), got ${text}`);
  return { item: m[1]!, share: number(name, m[2]!, 0, 1) };
}

function isProgressMode(value: string): value is ProgressMode | 'auto' {
  return (PROGRESS_MODES as readonly string[]).includes(value);
}

function number(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${name} must be a number from ${min} to ${max}, got ${text}`);
  }
  return value;
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = number(name, text, min, max);
  if (!Number.isInteger(value)) throw new UsageError(`${name} must be a whole number, got ${text}`);
  return value;
}
