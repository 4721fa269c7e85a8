/**
 * The Push port: data messages to devices. The real adapter is FCM (adapters/fcm/fcm-push.ts); without
 * credentials the server runs with `noPush`, and devices get their commands in heartbeat responses.
 */
export interface PushMessage {
  /** The device's FCM registration token. */
  token: string;
  /** An FCM data payload: every value a string. */
  data: Record<string, string>;
  /** How long FCM may hold the message for an offline device. */
  ttlSec: number;
}

export type PushOutcome =
  | { ok: true; messageId: string }
  /** unregistered: the token is dead; retryable: quota or server trouble, try again later; failed: give up. */
  | { ok: false; kind: 'unregistered' | 'retryable' | 'failed'; error: string };

export interface Push {
  readonly available: boolean;
  /** Sends up to MAX_PUSH_BATCH messages; one outcome per message, in order. Never throws. */
  send(messages: PushMessage[]): Promise<PushOutcome[]>;
}

/** FCM's sendEach takes at most 500 messages per call. */
export const MAX_PUSH_BATCH = 500;

export const noPush: Push = {
  available: false,
  send: async (messages) => messages.map(() => ({ ok: false, kind: 'failed', error: 'push is not configured' })),
};
