import { sql } from 'kysely';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/connect.js';
import type { Logger } from '../platform/logger.js';
import type { ChannelTarget, Notifier, OutgoingMessage } from '../platform/notifier.js';
import type { AlertKind, AlertSettings } from './alert-settings.js';
import { compose, type NoticeFacts } from './messages.js';

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
 * at all they wait. Sending is separate and retried: a message is composed once (so a retry says the
 * same thing), claimed with a lease, and marked sent, failed (due again later) or dropped.
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
      const { rows } = await sql<NoticeRow>`
        select n.id as notice_id, n.type, n.created_at, a.id as alert_id, a.kind, a.device_id, a.condition_since,
          a.resolved_at, a.details, coalesce(d.name, concat_ws(' ', d.model, d.serial)) as device_name, g.name as group_name,
          d.group_id,
          array(select m.action from alert_remediations m where m.alert_id = a.id and m.action <> 'ESCALATE' order by m.step) as steps
        from alert_notices n
        join alerts a on a.id = n.alert_id
        join devices d on d.id = a.device_id
        left join device_groups g on g.id = d.group_id
        where n.channel = ${channel} and n.notification_id is null
        order by n.created_at, n.id
        for update of n skip locked`.execute(trx);
      if (rows.length === 0) return 0;
      const buckets = new Map<string, NoticeRow[]>();
      for (const r of rows) {
        const key = `${r.type}|${r.kind}|${r.group_id ?? ''}`;
        buckets.set(key, [...(buckets.get(key) ?? []), r]);
      }
      const ready = [...buckets.values()].filter((b) => b[0]!.created_at <= windowStart);
      if (ready.length === 0) return 0;
      const { rows: recent } = await sql<{ n: number }>`
        select count(*)::int as n from notifications
        where channel = ${channel} and type <> 'test' and created_at > ${new Date(now.getTime() - 60_000)}::timestamptz`.execute(trx);
      const room = settings.channels.maxMessagesPerMinute - recent[0]!.n;
      if (room <= 0) return 0;
      const groups = ready.length <= room ? ready : [...ready.slice(0, room - 1), ready.slice(room - 1).flat()];
      for (const group of groups) {
        const { type, message } = compose(group.map(toFacts), this.baseUrl, now);
        const { rows: inserted } = await sql<{ id: number }>`
          insert into notifications (channel, type, created_at, next_attempt_at, payload)
          values (${channel}, ${type}, ${now}::timestamptz, ${now}::timestamptz, ${JSON.stringify(message)}::jsonb)
          returning id`.execute(trx);
        await sql`update alert_notices set notification_id = ${inserted[0]!.id}::bigint
                  where id = any(${group.map((g) => g.notice_id)}::bigint[])`.execute(trx);
      }
      return groups.length;
    });
  }

  /** Sends every message that is due, whichever process composed it; returns counts. */
  async sendDue(settings: AlertSettings): Promise<{ sent: number; failed: number }> {
    const now = this.clock.now();
    const { rows: claimed } = await sql<{ id: number; channel: Channel; attempts: number; payload: OutgoingMessage }>`
      update notifications set status = 'sending', attempts = attempts + 1,
        locked_until = ${new Date(now.getTime() + SEND_LEASE_MS)}::timestamptz
      where id in (
        select id from notifications
        where (status in ('pending', 'failed') and next_attempt_at <= ${now}::timestamptz)
           or (status = 'sending' and locked_until < ${now}::timestamptz)
        order by id limit 100
        for update skip locked)
      returning id, channel, attempts, payload`.execute(this.db);
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
        await sql`update notifications set status = 'sent', sent_at = ${at}::timestamptz, locked_until = null, last_error = null
                  where id = ${n.id}::bigint`.execute(this.db);
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
      await sql`update notifications set status = ${giveUp ? 'dropped' : 'failed'}, last_error = ${result.error}, locked_until = null,
                  next_attempt_at = ${new Date(at.getTime() + backoffSec * 1000)}::timestamptz
                where id = ${n.id}::bigint`.execute(this.db);
    }
    return { sent, failed };
  }
}

interface NoticeRow {
  notice_id: number;
  type: 'opened' | 'resolved' | 'escalated';
  created_at: Date;
  alert_id: string;
  kind: AlertKind;
  device_id: string;
  condition_since: Date;
  resolved_at: Date | null;
  details: Record<string, unknown>;
  device_name: string;
  group_name: string | null;
  group_id: string | null;
  steps: string[];
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
