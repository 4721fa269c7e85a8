import { verifyApk } from './apk-verify.js';
import { execute, type DeviceControl } from './commands.js';
import type { EnvelopeVerifier } from './envelope.js';
import type { CommandResult } from './protocol.js';
import type { CommandStats } from './stats.js';
import type { VirtualDevice } from './virtual-device.js';

/** How an envelope reached the device. Heartbeat answers today; FCM data messages later. */
export type DeliveryChannel = 'heartbeat' | 'push';

/**
 * Where envelopes enter a device, whatever carried them. The heartbeat loop hands over the
 * `commands` of each answer; a push channel only has to call `receive` with the data message. The
 * verifier's replay store makes the same envelope arriving by both channels run once.
 */
export interface CommandSink {
  receive(raw: unknown, channel: DeliveryChannel): void;
  /** The `cancelled` ids of a heartbeat answer. */
  cancel?(cids: string[]): void;
}

/**
 * A push channel (FCM on a real device). When the fleet is given one, each device enrolls with an FCM
 * token of its own and registers its sink under it; whatever the channel delivers for that token goes
 * through the same verifier as heartbeat deliveries.
 */
export interface PushChannel {
  register(fcmToken: string, sink: CommandSink): void;
}

/** Sends `POST /api/v1/commands/{cid}/result`; fire and forget, failures are counted by the sender. */
export type ResultReporter = (cid: string, result: CommandResult) => void;

/** Fetches an APK for INSTALL_APK (the release URL in the envelope). */
export type ApkDownloader = (url: string) => Promise<Buffer>;

export class CommandHandler implements CommandSink {
  constructor(
    private readonly verifier: EnvelopeVerifier,
    private readonly device: VirtualDevice,
    private readonly control: DeviceControl,
    private readonly report: ResultReporter,
    private readonly stats: CommandStats,
    private readonly now: () => number = Date.now,
    /** When set, INSTALL_APK downloads the release and checks its sha256 and signer first, as the agent does. */
    private readonly download?: ApkDownloader,
  ) {}

  receive(raw: unknown, channel: DeliveryChannel): void {
    this.stats.received++;
    this.stats.byChannel.set(channel, (this.stats.byChannel.get(channel) ?? 0) + 1);
    const nowMs = this.now();
    const verdict = this.verifier.verify(raw, Math.floor(nowMs / 1000));
    if (!verdict.ok) {
      this.stats.reject(verdict.reason);
      // Only envelopes naming this device are reported (the cid is then ours to speak about). A
      // replay is not: its cid already has a result, which a second report would contradict.
      if (verdict.cid !== undefined && verdict.reason !== 'replayed') {
        this.report(verdict.cid, { status: 'rejected', error: verdict.reason });
      }
      return;
    }
    const { envelope, params } = verdict;
    if (envelope.type === 'CANCEL') {
      // a signed cancel (push): its cid is the cancelled command's, now in the replay store - so
      // the command's own envelope is refused as a replay whenever it arrives
      this.stats.cancelled++;
      this.report(envelope.cid, { status: 'cancelled' });
      return;
    }
    if (envelope.type === 'INSTALL_APK' && this.download) {
      void this.#install(envelope.cid, params, nowMs);
      return;
    }
    this.#run(envelope.type, envelope.cid, params, nowMs);
  }

  /**
   * Commands the server cancelled (a heartbeat answer's `cancelled`): one not yet run is never run -
   * its cid goes into the replay store - and is reported `cancelled`. One that already ran (or was
   * refused) has its result reported already; the server keeps that and stops naming it.
   */
  cancel(cids: string[]): void {
    const nowSec = Math.floor(this.now() / 1000);
    for (const cid of cids) {
      if (this.verifier.forbid(cid, nowSec) !== 'new') continue;
      this.stats.cancelled++;
      this.report(cid, { status: 'cancelled' });
    }
  }

  /** Downloads the release and verifies it against the envelope before installing; a mismatch is a failed install. */
  async #install(cid: string, params: Record<string, unknown>, nowMs: number): Promise<void> {
    const { url, sha256, signerSha256 } = params;
    if (typeof url !== 'string' || typeof sha256 !== 'string' || typeof signerSha256 !== 'string') {
      this.#run('INSTALL_APK', cid, params, nowMs); // the executor names what is missing
      return;
    }
    let apk: Buffer;
    try {
      apk = await this.download!(url);
    } catch (err) {
      this.#finish(cid, { status: 'failed', error: `download failed: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    const check = verifyApk(apk, { sha256, signerSha256 });
    if (!check.ok) {
      this.#finish(cid, { status: 'failed', error: check.reason });
      return;
    }
    this.#run('INSTALL_APK', cid, params, nowMs);
  }

  #run(type: string, cid: string, params: Record<string, unknown>, nowMs: number): void {
    const result = execute(type, { device: this.device, control: this.control, params, nowMs });
    if (!result) {
      this.stats.reject('unknown_type');
      this.report(cid, { status: 'rejected', error: `unknown command type ${type}` });
      return;
    }
    this.#finish(cid, result);
  }

  #finish(cid: string, result: CommandResult): void {
    this.stats.executed++;
    if (result.status === 'succeeded') this.stats.succeeded++;
    else this.stats.failed++;
    this.report(cid, result);
  }
}
