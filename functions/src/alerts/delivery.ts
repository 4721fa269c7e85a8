import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { ChannelTarget, Notifier } from '../ports/notifier.js';
import type { AlertSettings } from './alerts.schemas.js';
import { compose, type NoticeFacts } from './messages.js';
import {
  attachNotices,
  claimDueMessages,
  countMessagesSince,
  insertMessage,
  lockComposer,
  lockPendingNotices,
  markMessageSent,
  markMessageUnsent,
  type NoticeRow,
} from './notifications.repository.js';

export type Channel = 'discord' | 'email';
export const CHANNELS: readonly Channel[] = ['discord', 'email'];

/** Attempts per message before it is given up (dropped). */
const MAX_ATTEMPTS = 8;
/** A sender that holds a message this long without finishing is presumed dead; another takes over. */
const SEND_LEASE_MS = 120_000;

export function targetOf(settings: AlertSettings, channel: Channel): ChannelTarget | null {
  const c = settings.channels;
  if (channel === 'discord') return c.discord.enabled && c.discord.webhookUrl ? { channel, webhookUrl: c.discord.webhookUrl } : null;
  return c.email.enabled && c.email.smtpUrl && c.email.to.length
    ? { channel, smtpUrl: c.email.smtpUrl, from: c.email.from, to: c.email.to }
    : null;
}

/**
 * Turns the notice outbox into messages and sends them. Composition groups a channel's pending notices
 * by (what happened, kind, group); a group goes out once its oldest notice has waited the digest
 * window - one message, or a digest naming them all. A channel sends at most maxMessagesPerMinute;
 * when more groups are ready than that allows, the rest are folded into one digest, and with no room
 * at all they wait. One composer per channel works at a time (lockComposer), so a group is never split.
 * Sending is separate and retried: a message is composed once (so a retry says the same thing), claimed
 * with a lease, and marked sent, failed (due again later) or dropped.
 */
export class AlertDelivery {
  constructor(
    private readonly db: Db,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly baseUrl: string,
  ) {}

  async run(settings: AlertSettings): Promise<{ composed: number; sent: number; failed: number }> {
    let composed = 0;
    for (const channel of CHANNELS) if (targetOf(settings, channel)) composed += await this.compose(channel, settings);
    const { sent, failed } = await this.sendDue(settings);
    return { composed, sent, failed };
  }

  async compose(channel: Channel, settings: AlertSettings): Promise<number> {
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - settings.thresholds.digestWindowSec * 1000);
    return this.db.transaction().execute(async (trx) => {
      await lockComposer(trx, channel);
      const rows = await lockPendingNotices(trx, channel);
      if (rows.length === 0) return 0;
      const buckets = new Map<string, NoticeRow[]>();
      for (const r of rows) {
        const key = `${r.type}|${r.kind}|${r.group_id ?? ''}`;
        buckets.set(key, [...(buckets.get(key) ?? []), r]);
      }
      const ready = [...buckets.values()].filter((b) => b[0]!.created_at <= windowStart);
      if (ready.length === 0) return 0;
      const recent = await countMessagesSince(trx, channel, new Date(now.getTime() - 60_000));
      const room = settings.channels.maxMessagesPerMinute - recent;
      if (room <= 0) return 0;
      const groups = ready.length <= room ? ready : [...ready.slice(0, room - 1), ready.slice(room - 1).flat()];
      for (const group of groups) {
        const { type, message } = compose(group.map(toFacts), this.baseUrl, now);
        const id = await insertMessage(trx, { channel, type, at: now, payload: message });
        await attachNotices(
          trx,
          group.map((g) => g.notice_id),
          id,
        );
      }
      return groups.length;
    });
  }

  /** Sends every message that is due, whichever process composed it; returns counts. */
  async sendDue(settings: AlertSettings): Promise<{ sent: number; failed: number }> {
    const now = this.clock.now();
    const claimed = await claimDueMessages(this.db, now, new Date(now.getTime() + SEND_LEASE_MS));
    let sent = 0;
    let failed = 0;
    for (const n of claimed) {
      const target = targetOf(settings, n.channel);
      const result = target
        ? await this.notifier.send(n.payload, target)
        : { ok: false as const, retryable: true, error: `${n.channel} is not configured` };
      const at = this.clock.now();
      if (result.ok) {
        sent++;
        await markMessageSent(this.db, n.id, at);
        continue;
      }
      failed++;
      const giveUp = !result.retryable || n.attempts >= MAX_ATTEMPTS;
      const backoffSec = Math.max(result.retryAfterSec ?? 0, Math.min(3600, 30 * 2 ** (n.attempts - 1)));
      this.logger.warn('notification not sent', {
        channel: n.channel,
        notification: n.id,
        attempt: n.attempts,
        giveUp,
        error: result.error,
      });
      await markMessageUnsent(this.db, n.id, {
        status: giveUp ? 'dropped' : 'failed',
        error: result.error,
        nextAttemptAt: new Date(at.getTime() + backoffSec * 1000),
      });
    }
    return { sent, failed };
  }
}

const toFacts = (r: NoticeRow): NoticeFacts => ({
  noticeId: r.notice_id,
  type: r.type,
  alertId: r.alert_id,
  kind: r.kind,
  deviceId: r.device_id,
  deviceName: r.device_name,
  groupName: r.group_name,
  conditionSince: r.condition_since,
  resolvedAt: r.resolved_at,
  details: r.details,
  steps: r.steps,
});
