import { Histogram } from './histogram.js';

/** Which API call a request was: latencies and errors are kept apart per kind. */
export type RequestKind = 'admin' | 'enroll' | 'session' | 'heartbeat' | 'result' | 'policy';
export const REQUEST_KINDS: readonly RequestKind[] = ['admin', 'enroll', 'session', 'heartbeat', 'result', 'policy'];

/** Why the device refused an envelope (see envelope.ts), plus the command-level refusals. */
export type RejectReason =
  | 'malformed'
  | 'unsupported_version'
  | 'wrong_device'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'replayed'
  | 'replay_store_full'
  | 'bad_params'
  | 'unknown_type';

export class CommandStats {
  received = 0;
  executed = 0;
  succeeded = 0;
  failed = 0;
  rejected = 0;
  /** Commands the server cancelled before they ran (reported `cancelled`, never executed). */
  cancelled = 0;
  readonly rejectedBy = new Map<RejectReason, number>();
  resultsReported = 0;
  /** POST /commands/{cid}/result answered 404: the server does not have the route yet. */
  resultsNotFound = 0;
  /** Result reports sent again after a 503, 429 or network error. */
  resultRetries = 0;
  /** Envelopes received per delivery channel (heartbeat, push). */
  readonly byChannel = new Map<string, number>();

  reject(reason: RejectReason): void {
    this.rejected++;
    this.rejectedBy.set(reason, (this.rejectedBy.get(reason) ?? 0) + 1);
  }
}

/** Every counter of one run. Plain fields: they are bumped thousands of times a second. */
export class Stats {
  readonly startedAt = Date.now();
  devicesWanted = 0;
  /** Devices that have credentials: enrolled in this run or loaded from --state. */
  enrolled = 0;
  enrolledFromState = 0;
  /** Devices that hold a session and are being scheduled. */
  active = 0;
  heartbeatsSent = 0;
  heartbeatsOk = 0;
  /** Beats not sent because the device was simulating an outage. */
  heartbeatsSkippedOffline = 0;
  /** Beats not sent because the device's previous request was still in flight (server too slow). */
  heartbeatsOverrun = 0;
  sessionsOpened = 0;
  /** Sessions opened because a device route answered 401. */
  sessionsAfter401 = 0;
  devicesRemoved = 0;
  devicesWiped = 0;
  /** Devices that took RELEASE_OWNER and stopped reporting. */
  devicesReleased = 0;
  readonly commands = new CommandStats();
  /** Policies (protocol v2): documents applied and reported, envelopes refused, items not applied. */
  readonly policies = { applied: 0, rejected: 0, itemsFailed: 0, itemsUnsupported: 0 };
  readonly errors = new Map<string, number>();
  readonly latency = new Map<RequestKind, Histogram>(REQUEST_KINDS.map((k) => [k, new Histogram()]));
  /** Heartbeat latency since the last progress line. */
  readonly recentLatency = new Histogram();
  /** Taken one interval after the last device started: from then on the fleet is at full rate. */
  steady: { atMs: number; heartbeatsOk: number; cpu: NodeJS.CpuUsage } | undefined;
  /** How late the scheduler fired each beat: proof that the simulator itself keeps up. */
  readonly schedulerLag = new Histogram();

  markSteady(): void {
    this.steady = { atMs: Date.now(), heartbeatsOk: this.heartbeatsOk, cpu: process.cpuUsage() };
  }

  /** `detail` is e.g. `http 503 service_unavailable`, `net ECONNRESET` or `timeout`. */
  error(kind: RequestKind, detail: string): void {
    const key = `${kind} ${detail}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  get errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  recordLatency(kind: RequestKind, ms: number): void {
    this.latency.get(kind)?.record(ms);
    if (kind === 'heartbeat') this.recentLatency.record(ms);
  }
}
