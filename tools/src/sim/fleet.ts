import type { PolicyFaults } from './policy.js';
import type { Writable } from 'node:stream';
import type { PushChannel } from './command-handler.js';
import { DeviceRunner, simulatedFcmToken, type SimDevice } from './device-runner.js';
import { enrollDevice, obtainEnrollmentToken, pool, type EnrollmentSource } from './enroll.js';
import { HttpClient } from './http-client.js';
import { createProfile } from './identity.js';
import { startProgress, type ProgressMode } from './progress.js';
import { Random } from './random.js';
import { Scheduler } from './scheduler.js';
import { loadState, saveState, type StoredDevice } from './state.js';
import { Stats } from './stats.js';
import { buildSummary, type FleetSummary } from './summary.js';
import { SHOWCASE_ROLES, VirtualDevice } from './virtual-device.js';

export interface FleetOptions {
  url: string;
  devices: number;
  intervalSec: number;
  /** Enrollments and first sessions at once. */
  concurrency: number;
  maxSockets: number;
  timeoutMs: number;
  chaos: number;
  seed: number;
  appPackage: string;
  enrollment: EnrollmentSource;
  /** Stop after this long (from the start, enrollment included); otherwise run until `signal`. */
  durationSec?: number | undefined;
  stateFile?: string | undefined;
  obeyServerInterval?: boolean;
  /** Share of devices plugged in for good (0..1): battery full and charging. The rest cycle on battery. */
  mainsPowered?: number | undefined;
  /** The kiosk app's versionCode every device starts with (default 230). */
  appVersionCode?: number | undefined;
  /** The agent's versionCode every device starts with (default 1; the app's when the app is the agent package). */
  agentVersionCode?: number | undefined;
  /** The crash model: devices in `share` (0..1, a fixed spread of device indexes) crash-loop while they run `versionCode`. */
  crash?: { versionCode: number; share: number } | undefined;
  /** The first devices play SHOWCASE_ROLES (one each) instead of random faults: `npm run demo`. */
  showcase?: boolean | undefined;
  /** Device time runs this many times faster than the wall clock: --interval-sec 5 --time-scale 60 is a 5-minute fleet. */
  timeScale?: number | undefined;
  /** A share of devices that fail, or do not support, a policy item (protocol v2; for tests). */
  policyFaults?: PolicyFaults | undefined;
  progress?: ProgressMode;
  /** Progress lines and notices; process.stdout by default. */
  out?: Writable;
  signal?: AbortSignal;
  /** A push channel to wire in (FCM on real devices; a test's in-process channel here). */
  push?: PushChannel;
  /** Called once every device has enrolled (or come from --state) and started beating. */
  onAllStarted?: () => void;
}

/** How long a stop waits for requests in flight before cutting them. */
const MAX_DRAIN_MS = 10_000;

/**
 * Runs a simulated fleet against a server: enroll what --state does not already hold, start every
 * device, keep them beating until the duration ends or `signal` aborts, then drain, save and sum up.
 */
export async function runFleet(o: FleetOptions): Promise<FleetSummary> {
  const cpuAtStart = process.cpuUsage();
  const out = o.out ?? process.stdout;
  const stats = new Stats();
  stats.devicesWanted = o.devices;
  const stored = o.stateFile ? await loadState(o.stateFile) : { url: undefined, devices: [] };
  if (stored.url !== undefined && stored.url !== o.url) {
    out.write(`note: ${o.stateFile} was saved for ${stored.url}; its devices may be unknown to ${o.url}\n`);
  }
  const devices = createDevices(o, stored.devices, stats);
  const client = new HttpClient(o.url, { maxSockets: o.maxSockets, timeoutMs: o.timeoutMs }, stats);
  const scheduler = new Scheduler((id, dueMs) => runner.beat(id, dueMs));
  const runner = new DeviceRunner(devices, client, stats, scheduler, {
    obeyServerInterval: o.obeyServerInterval ?? false,
    push: o.push,
    timeScale: o.timeScale,
    policyFaults: o.policyFaults,
  });
  const stopProgress = startProgress(stats, out, o.progress ?? 'off');
  const stop = stopCondition(o);
  let beatingFromMs: number;
  let steadyTimer: NodeJS.Timeout | undefined;
  try {
    const missing = devices.filter((d) => !d.credentials).length;
    const token = missing > 0 ? await obtainEnrollmentToken(client, o.enrollment, missing) : '';
    beatingFromMs = Date.now();
    await pool(devices, o.concurrency, (d) => enrollAndStart(d, client, stats, runner, token, stop.reached), stop.reached);
    o.onAllStarted?.();
    // The last devices' first beats are spread over one more interval; after that the rate is flat.
    steadyTimer = setTimeout(() => stats.markSteady(), o.intervalSec * 1000);
    await stop.promise;
  } finally {
    clearTimeout(steadyTimer);
    stop.cancel();
    scheduler.stop();
    await client.drain(Math.min(o.timeoutMs, MAX_DRAIN_MS));
    client.close();
    stopProgress();
    if (o.stateFile) await saveState(o.stateFile, o.url, toStore(devices, stored.devices));
  }
  return buildSummary(stats, {
    url: o.url,
    seed: o.seed,
    chaos: o.chaos,
    intervalSec: o.intervalSec,
    heartbeatsFromMs: beatingFromMs,
    cpu: process.cpuUsage(cpuAtStart),
  });
}

/**
 * Device i always gets generator (seed, i) and draws its profile from it even when --state supplies
 * one, so a device behaves the same whether it was enrolled in this run or an earlier one.
 */
function createDevices(o: FleetOptions, stored: readonly StoredDevice[], stats: Stats): SimDevice[] {
  return Array.from({ length: o.devices }, (_, index) => {
    const rng = new Random(o.seed, index);
    const drawn = createProfile(rng, index);
    const saved = stored[index];
    const profile = saved?.profile ?? drawn;
    if (saved) {
      stats.enrolled++;
      stats.enrolledFromState++;
    }
    return {
      index,
      rng,
      profile,
      device: new VirtualDevice(profile, rng, {
        chaos: o.chaos,
        appPackage: o.appPackage,
        mainsPowered: index % 100 < (o.mainsPowered ?? 0) * 100,
        appVersionCode: o.appVersionCode,
        agentVersionCode: o.agentVersionCode,
        crashesOn: o.crash && inShare(index, o.crash.share) ? o.crash.versionCode : undefined,
        role: o.showcase ? SHOWCASE_ROLES[index] : undefined,
      }),
      credentials: saved ? { deviceId: saved.deviceId, deviceSecret: saved.deviceSecret, hmacKey: saved.hmacKey } : undefined,
      commands: undefined,
      session: undefined,
      sessionRefreshAtMs: 0,
      sessionOpening: undefined,
      intervalSec: o.intervalSec,
      lastAdvanceMs: 0,
      heartbeatInFlight: false,
      state: 'pending',
      fcmToken: o.push ? simulatedFcmToken({ index }, o.seed) : undefined,
    };
  });
}

/**
 * Whether device `index` is in a share of the fleet: a multiplicative hash of the index, so the share
 * is spread over the indexes (not the first ones) and does not line up with --mains-powered.
 */
export function inShare(index: number, share: number): boolean {
  return (Math.imul(index + 1, 2654435761) >>> 0) % 10_000 < share * 10_000;
}

async function enrollAndStart(
  d: SimDevice,
  client: HttpClient,
  stats: Stats,
  runner: DeviceRunner,
  token: string,
  stopping: () => boolean,
): Promise<void> {
  if (!d.credentials) {
    const enrollment = await enrollDevice(client, stats, token, d.profile.identity, stopping, d.fcmToken);
    if (!enrollment) {
      d.state = 'failed';
      return;
    }
    d.credentials = { deviceId: enrollment.deviceId, deviceSecret: enrollment.deviceSecret, hmacKey: enrollment.hmacKey };
    stats.enrolled++;
  }
  await runner.start(d);
  if (d.state === 'pending') d.state = 'failed';
}

/** Resolves when the duration is over or the signal aborts, whichever comes first. */
function stopCondition(o: FleetOptions) {
  let reached = false;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    const done = () => {
      reached = true;
      resolve();
    };
    if (o.durationSec !== undefined) timer = setTimeout(done, o.durationSec * 1000);
    if (o.signal?.aborted) done();
    onAbort = done;
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  return {
    promise,
    reached: () => reached,
    cancel: () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Every device that still holds valid credentials, plus stored ones beyond this run's count. */
function toStore(devices: readonly SimDevice[], stored: readonly StoredDevice[]): StoredDevice[] {
  const kept: StoredDevice[] = [];
  for (const d of devices) {
    if (!d.credentials || d.state === 'removed' || d.state === 'wiped' || d.state === 'released') continue;
    kept.push({ ...d.credentials, profile: d.profile });
  }
  return [...kept, ...stored.slice(devices.length)];
}
