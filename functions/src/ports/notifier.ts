/**
 * The Notifier port: one composed message out through one channel. The alerts context decides what to
 * say and when; adapters (adapters/notifiers/) only deliver, and tell whether a failure is worth
 * retrying and when.
 */
export type Severity = 'critical' | 'warning' | 'info' | 'resolved';

export interface MessageItem {
  /** e.g. "Lobby kiosk 3 (Pixel 7 R5CT1234)" */
  title: string;
  /** Labelled facts: Device, Group, Kind, Since, ... */
  fields: { name: string; value: string }[];
  /** Link to the device's page in the admin console. */
  url?: string;
}

export interface OutgoingMessage {
  /** Short summary line: the Discord embed title, the e-mail subject. */
  title: string;
  /** Plain text: the whole message for e-mail's text part and the Discord description. */
  text: string;
  severity: Severity;
  /** Link to the page in the admin console that shows it (the alert, or the alerts list). */
  url?: string;
  /** One per device (a digest names many); channels may show only the first few. */
  items: MessageItem[];
  /** When it happened (ISO). */
  at: string;
}

export type ChannelTarget = { channel: 'discord'; webhookUrl: string } | { channel: 'email'; smtpUrl: string; from: string; to: string[] };

/**
 * What kind of failure, in words that carry nothing of the remote's answer: what the channel test
 * shows an admin, so a test message cannot be used to read or map what sits behind the server.
 */
export const FAILURE_CLASSES = [
  /** The URL is not one this channel may send to (not a Discord host, a bad URL). */
  'invalid_target',
  /** The destination resolved to an address outbound connections may not reach (loopback, private, metadata). */
  'destination_refused',
  /** No connection: the name did not resolve, or the host refused or dropped it. */
  'unreachable',
  'timeout',
  /** The service answered and refused the message (a bad webhook token, a rejected recipient, a redirect). */
  'rejected',
  'rate_limited',
  /** The service failed (5xx, a broken answer). */
  'remote_error',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export type SendResult =
  | { ok: true; detail?: string }
  /** retryable: try again later (after retryAfterSec when the channel said so); otherwise give up. */
  | { ok: false; retryable: boolean; retryAfterSec?: number; error: string; failure?: FailureClass };

export interface Notifier {
  /** Never throws: every failure is a SendResult. */
  send(message: OutgoingMessage, target: ChannelTarget): Promise<SendResult>;
}
