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

export class CommandHandler implements CommandSink {
  constructor(
    private readonly verifier: EnvelopeVerifier,
    private readonly device: VirtualDevice,
    private readonly control: DeviceControl,
    private readonly report: ResultReporter,
    private readonly stats: CommandStats,
    private readonly now: () => number = Date.now,
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
    const result = execute(envelope.type, { device: this.device, control: this.control, params, nowMs });
    if (!result) {
      this.stats.reject('unknown_type');
      this.report(envelope.cid, { status: 'rejected', error: `unknown command type ${envelope.type}` });
      return;
    }
    this.stats.executed++;
    if (result.status === 'succeeded') this.stats.succeeded++;
    else this.stats.failed++;
    this.report(envelope.cid, result);
  }
}
