import type { Messaging } from 'firebase-admin/messaging';
import type { Push, PushMessage, PushOutcome } from '../../ports/push.js';

const UNREGISTERED = new Set([
  'messaging/registration-token-not-registered',
  'messaging/invalid-registration-token',
  'messaging/mismatched-credential',
]);
const RETRYABLE = new Set([
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  'messaging/server-unavailable',
  'messaging/internal-error',
  'messaging/unknown-error',
]);

/**
 * FCM through firebase-admin's `sendEach`: high-priority data messages (so a dozing kiosk wakes),
 * kept by FCM until the command expires. Errors are sorted into dead tokens, retryable (quota,
 * server) and final failures; the dispatcher decides what to do with each.
 */
export class FcmPush implements Push {
  readonly available = true;

  constructor(private readonly messaging: Pick<Messaging, 'sendEach'>) {}

  async send(messages: PushMessage[]): Promise<PushOutcome[]> {
    try {
      const batch = await this.messaging.sendEach(
        messages.map((m) => ({
          token: m.token,
          data: m.data,
          android: { priority: 'high' as const, ttl: Math.max(0, m.ttlSec) * 1000 },
        })),
      );
      return batch.responses.map((r): PushOutcome => {
        if (r.success && r.messageId) return { ok: true, messageId: r.messageId };
        const code = r.error?.code ?? 'messaging/unknown-error';
        const error = `${code}: ${r.error?.message ?? 'no detail'}`;
        if (UNREGISTERED.has(code)) return { ok: false, kind: 'unregistered', error };
        return { ok: false, kind: RETRYABLE.has(code) ? 'retryable' : 'failed', error };
      });
    } catch (err) {
      // The whole call failed (network, auth, 5xx on the batch): nothing was sent, all may be retried.
      const error = err instanceof Error ? err.message : String(err);
      return messages.map(() => ({ ok: false, kind: 'retryable', error }));
    }
  }
}
