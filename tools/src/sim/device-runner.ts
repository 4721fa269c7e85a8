import { CommandHandler, type CommandSink, type PushChannel } from './command-handler.js';
import type { DeviceControl } from './commands.js';
import { countFailure, isTransient, withRetries } from './enroll.js';
import { EnvelopeVerifier } from './envelope.js';
import type { ApiResponse, HttpClient } from './http-client.js';
import type { DeviceProfile } from './identity.js';
import { parseHeartbeatAnswer, parseSession, type CommandResult, type Session } from './protocol.js';
import { PolicyApplier, parsePolicyRef, verifyPolicy, type PolicyFaults } from './policy.js';
import type { Random } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { RequestKind, Stats } from './stats.js';
import type { VirtualDevice } from './virtual-device.js';

export interface Credentials {
  deviceId: string;
  deviceSecret: string;
  hmacKey: string;
}

/** One device of the fleet: the simulated hardware plus what the agent keeps (credentials, session). */
export interface SimDevice {
  readonly index: number;
  readonly rng: Random;
  readonly profile: DeviceProfile;
  readonly device: VirtualDevice;
  credentials: Credentials | undefined;
  commands: CommandSink | undefined;
  session: Session | undefined;
  /** When to open the next session: a while before the current one expires. */
  sessionRefreshAtMs: number;
  sessionOpening: Promise<boolean> | undefined;
  intervalSec: number;
  lastAdvanceMs: number;
  heartbeatInFlight: boolean;
  state: 'pending' | 'active' | 'removed' | 'wiped' | 'released' | 'failed';
  /** Set when a push channel is wired in. */
  fcmToken?: string | undefined;
  /** The policy the device applied (protocol v2), and whether a fetch is under way. */
  policy?: PolicyApplier | undefined;
  policyFetching?: boolean | undefined;
}

export interface RunnerOptions {
  /** Follow the server's `nextHeartbeatSec` instead of keeping --interval-sec. */
  obeyServerInterval: boolean;
  /** When set, devices report an FCM token and receive pushed envelopes through it. */
  push?: PushChannel | undefined;
  /** Device time runs this many times faster than the wall clock (battery, storage, app freezes). */
  timeScale?: number | undefined;
  /** A share of devices that fail, or do not support, a given policy item (for tests). */
  policyFaults?: PolicyFaults | undefined;
}

/** The FCM token a simulated device reports when a push channel is wired in. */
export const simulatedFcmToken = (d: Pick<SimDevice, 'index'>, seed: number) => `sim-fcm-${seed}-${d.index}`;

/** Attempts to deliver one result report. */
const RESULT_ATTEMPTS = 8;
/** Renew sessions this long before they expire (at most a tenth of their lifetime). */
const SESSION_RENEW_EARLY_MS = 300_000;
/** INSTALL_APK's download: the release URL the server put in the envelope (public, like the agent's). */
const downloadApk = async (url: string): Promise<Buffer> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
};

/** Heartbeat intervals vary by ±10%, as real devices' timers do, so beats never synchronize. */
const JITTER = 0.1;

/**
 * The life of every device after enrollment: sessions, heartbeats on the shared scheduler, command
 * delivery and result reports. Stateless itself; everything per device lives in its SimDevice.
 */
export class DeviceRunner {
  constructor(
    private readonly devices: readonly SimDevice[],
    private readonly client: HttpClient,
    private readonly stats: Stats,
    private readonly scheduler: Scheduler,
    private readonly options: RunnerOptions,
  ) {}

  /** Opens the first session and schedules the first beat somewhere in the first interval. */
  async start(d: SimDevice): Promise<void> {
    const creds = d.credentials;
    if (!creds || !(await this.#openSession(d))) return;
    d.commands = new CommandHandler(
      new EnvelopeVerifier(creds.deviceId, creds.hmacKey),
      d.device,
      this.#control(d),
      (cid, result) => this.#report(d, cid, result),
      this.stats.commands,
      Date.now,
      downloadApk,
    );
    if (d.fcmToken) this.options.push?.register(d.fcmToken, d.commands);
    d.policy = new PolicyApplier(creds.deviceId, this.options.policyFaults);
    d.state = 'active';
    this.stats.active++;
    const now = Date.now();
    d.lastAdvanceMs = now;
    this.scheduler.schedule(d.index, now + d.rng.range(0, d.intervalSec * 1000));
  }

  /** The scheduler's callback: one heartbeat interval of device `id` has come round. */
  readonly beat = (id: number, dueMs: number): void => {
    const d = this.devices[id];
    if (!d || d.state !== 'active') return;
    const now = Date.now();
    this.stats.schedulerLag.record(Math.max(0, now - dueMs));
    this.scheduler.schedule(id, Math.max(dueMs + this.#jittered(d), now));
    d.device.advance(((now - d.lastAdvanceMs) / 1000) * (this.options.timeScale ?? 1), now);
    d.lastAdvanceMs = now;
    if (d.device.takeOfflineBeat()) {
      this.stats.heartbeatsSkippedOffline++;
    } else if (d.heartbeatInFlight) {
      // The server has not answered the last one in a whole interval; do not pile up more.
      this.stats.heartbeatsOverrun++;
    } else {
      void this.#sendHeartbeat(d, now);
    }
  };

  async #sendHeartbeat(d: SimDevice, nowMs: number): Promise<void> {
    d.heartbeatInFlight = true;
    const body = d.device.heartbeat(nowMs);
    if (d.fcmToken) body.fcmToken = d.fcmToken;
    if (d.policy) body.policy = { hash: d.policy.appliedHash };
    const eventCount = body.events?.length ?? 0;
    this.stats.heartbeatsSent++;
    const res = await this.#deviceRequest(d, 'heartbeat', '/api/v1/heartbeat', body);
    d.heartbeatInFlight = false;
    if (!res) return;
    if (res.status !== 200) return countFailure(this.stats, 'heartbeat', res);
    this.stats.heartbeatsOk++;
    d.device.acknowledgeEvents(eventCount);
    const answer = parseHeartbeatAnswer(res.body);
    const next = answer.nextHeartbeatSec;
    if (this.options.obeyServerInterval && next !== undefined && next !== d.intervalSec) this.#setInterval(d, next);
    // cancels first: a cancelled command is never run, even if an old envelope of it comes along
    if (answer.cancelled.length) d.commands?.cancel?.(answer.cancelled);
    for (const envelope of answer.commands) d.commands?.receive(envelope, 'heartbeat');
    // v2: a policy hash other than the one applied means fetch, verify, apply, report
    const policy = parsePolicyRef(res.body);
    if (policy && d.policy && policy.hash !== d.policy.appliedHash && !d.policyFetching) void this.#convergePolicy(d);
  }

  async #convergePolicy(d: SimDevice): Promise<void> {
    const applier = d.policy;
    const creds = d.credentials;
    if (!applier || !creds) return;
    d.policyFetching = true;
    try {
      const res = await this.#deviceRequest(d, 'policy', '/api/v1/device/policy', undefined, 'GET');
      if (!res) return;
      if (res.status !== 200) return countFailure(this.stats, 'policy', res);
      const envelope = (res.body as { envelope?: unknown } | null)?.envelope;
      if (envelope === null || envelope === undefined) return;
      const verdict = verifyPolicy(creds.deviceId, creds.hmacKey, envelope, Math.floor(Date.now() / 1000));
      if (!verdict.ok) {
        this.stats.policies.rejected++;
        return;
      }
      const items = applier.apply(verdict.document);
      const report = await this.#deviceRequest(d, 'policy', '/api/v1/device/policy/report', {
        hash: verdict.hash,
        appliedAt: new Date().toISOString(),
        items,
      });
      if (report?.status === 200) {
        applier.appliedHash = verdict.hash;
        this.stats.policies.applied++;
        this.stats.policies.itemsFailed += items.filter((i) => i.status === 'failed').length;
        this.stats.policies.itemsUnsupported += items.filter((i) => i.status === 'unsupported').length;
      } else if (report) countFailure(this.stats, 'policy', report);
    } finally {
      d.policyFetching = false;
    }
  }

  /**
   * A device route with the session handling of docs/protocol.md: renew before expiry, and on a
   * 401 renew once and retry once. Null when there is no session to be had (already counted).
   */
  async #deviceRequest(d: SimDevice, kind: RequestKind, path: string, body: unknown, method = 'POST'): Promise<ApiResponse | null> {
    if ((!d.session || Date.now() >= d.sessionRefreshAtMs) && !(await this.#renewSession(d))) return null;
    const token = d.session?.accessToken;
    const res = await this.client.request(kind, method, path, body, token);
    if (res.status !== 401) return res;
    this.stats.sessionsAfter401++;
    // Another request of this device may have renewed the session meanwhile.
    if (d.session?.accessToken === token && !(await this.#renewSession(d))) return null;
    return this.client.request(kind, method, path, body, d.session?.accessToken);
  }

  /** One session request per device at a time, however many requests found the token stale. */
  #renewSession(d: SimDevice): Promise<boolean> {
    d.sessionOpening ??= this.#openSession(d).finally(() => (d.sessionOpening = undefined));
    return d.sessionOpening;
  }

  async #openSession(d: SimDevice): Promise<boolean> {
    const creds = d.credentials;
    if (!creds) return false;
    const body = { deviceId: creds.deviceId, deviceSecret: creds.deviceSecret };
    const res = await withRetries(() => this.client.request('session', 'POST', '/api/v1/device/session', body));
    const session = res.status === 200 ? parseSession(res.body) : null;
    if (session) {
      this.stats.sessionsOpened++;
      const now = Date.now();
      d.session = session;
      d.sessionRefreshAtMs = session.expiresAtMs - Math.min(SESSION_RENEW_EARLY_MS, (session.expiresAtMs - now) / 10);
      return true;
    }
    // The server no longer knows the device (removed in the console): it stops for good.
    if (res.status === 401 && res.code === 'invalid_credentials') this.#retire(d, 'removed');
    else countFailure(this.stats, 'session', res);
    return false;
  }

  /**
   * Reports a result, retrying a lost or refused (503, 429, network) report with backoff as a real
   * agent must: until the server has it, the command stays open and keeps coming back in heartbeat
   * answers, where the replay store refuses to run it again.
   */
  #report(d: SimDevice, cid: string, result: CommandResult): void {
    void this.#reportWithRetries(d, cid, result);
  }

  async #reportWithRetries(d: SimDevice, cid: string, result: CommandResult): Promise<void> {
    const path = `/api/v1/commands/${encodeURIComponent(cid)}/result`;
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deviceRequest(d, 'result', path, result);
      if (!res) return;
      const again = isTransient(res, true) && attempt < RESULT_ATTEMPTS && d.state !== 'removed';
      if (!again) {
        if (res.status >= 200 && res.status < 300) this.stats.commands.resultsReported++;
        // The route does not exist yet on servers without signed commands: counted, not an error.
        else if (res.status === 404) this.stats.commands.resultsNotFound++;
        else countFailure(this.stats, 'result', res);
        return;
      }
      this.stats.commands.resultRetries++;
      const delaySec = Math.min(30, res.retryAfterSec ?? 0.5 * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, delaySec * 1000 * (0.75 + Math.random() / 2)));
    }
  }

  #control(d: SimDevice): DeviceControl {
    return {
      beatNow: () => this.scheduler.schedule(d.index, Date.now()),
      setIntervalSec: (sec) => this.#setInterval(d, sec),
      retire: (why) => this.#retire(d, why),
    };
  }

  #setInterval(d: SimDevice, sec: number): void {
    d.intervalSec = sec;
    if (d.state === 'active') this.scheduler.schedule(d.index, Date.now() + this.#jittered(d));
  }

  #retire(d: SimDevice, why: 'removed' | 'wiped' | 'released'): void {
    if (d.state === 'removed' || d.state === 'wiped' || d.state === 'released') return;
    if (d.state === 'active') this.stats.active--;
    d.state = why;
    this.scheduler.cancel(d.index);
    if (why === 'removed') this.stats.devicesRemoved++;
    else if (why === 'released') this.stats.devicesReleased++;
    else this.stats.devicesWiped++;
  }

  #jittered(d: SimDevice): number {
    return d.intervalSec * 1000 * d.rng.range(1 - JITTER, 1 + JITTER);
  }
}
