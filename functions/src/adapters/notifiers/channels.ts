import type { ChannelTarget, Notifier, OutgoingMessage, SendResult } from '../../ports/notifier.js';

/** Sends each message through the adapter of its target's channel. */
export class ChannelNotifier implements Notifier {
  constructor(private readonly byChannel: Record<ChannelTarget['channel'], Notifier>) {}

  send(message: OutgoingMessage, target: ChannelTarget): Promise<SendResult> {
    return this.byChannel[target.channel].send(message, target);
  }
}
