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

export type SendResult =
  | { ok: true; detail?: string }
  /** retryable: try again later (after retryAfterSec when the channel said so); otherwise give up. */
  | { ok: false; retryable: boolean; retryAfterSec?: number; error: string };

export interface Notifier {
  /** Never throws: every failure is a SendResult. */
  send(message: OutgoingMessage, target: ChannelTarget): Promise<SendResult>;
}
