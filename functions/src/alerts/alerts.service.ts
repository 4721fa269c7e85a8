import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from '../core/cursor.js';
import { badRequest, notFound, tooManyRequests } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { FailureClass, Notifier } from '../ports/notifier.js';
import { noFailureLimiter, type FailureLimiter } from '../ports/failure-limiter.js';
import type { LiveView } from '../fleet-view/index.js';
import { publicView, type AlertSettingsService } from './alert-settings.js';
import {
  acknowledgeAlert,
  acknowledgeAlerts,
  closeAlertsOfDevices,
  countAlerts,
  findAlert,
  listAlerts,
  lockAlert,
  type AlertRow,
} from './alerts.repository.js';
import type { ListAlertsQuery, SettingsPatch } from './alerts.schemas.js';
import type { BulkAckBody } from './alert-hours.schemas.js';
import { CHANNELS, targetOf, type AlertDelivery, type Channel } from './delivery.js';
import { insertMessage, insertTestMessage, listMessages } from './notifications.repository.js';
import type { OperatorAlertKind } from './alert-kinds.js';
import type { OutgoingMessage } from '../ports/notifier.js';
import type { SelfHealing } from './self-healing.js';
import { sweep, sweptNothing } from './sweep.js';

/** The alerts context: the minute's work (sweep, self-healing, delivery) and the admin API. */
/** Test messages an admin may send per rate-limit window. */
export const CHANNEL_TESTS_PER_WINDOW = 10;

/** What the channel test says about each kind of failure. */
const FAILURE_TEXT: Record<FailureClass, string> = {
  invalid_target: 'the URL is not one this channel may send to',
  destination_refused: 'the destination is a loopback, private or link-local address, which alert channels may not reach',
  unreachable: 'could not connect (the name did not resolve, or the connection was refused)',
  timeout: 'no answer in time',
  rejected: 'the service refused the message (check the webhook URL, the credentials or the recipients)',
  rate_limited: 'the service asked to slow down; try again later',
  remote_error: 'the service failed to take the message; try again later',
};

export class AlertService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly settings: AlertSettingsService,
    private readonly healing: SelfHealing,
    private readonly delivery: AlertDelivery,
    private readonly notifier: Notifier,
    private readonly mirror: LiveView,
    private readonly logger: Logger,
    private readonly limiter: FailureLimiter = noFailureLimiter,
  ) {}

  /** One round: raise and resolve, take self-healing steps, tell people. A failure in one part does not stop the others. */
  async tick() {
    const settings = await this.settings.current();
    const swept = await sweep(this.db, settings, this.clock.now()).catch((err: unknown) => {
      // healing and delivery still run: notices already in the outbox go out whatever the sweep did
      this.logger.error('alert sweep failed', { err });
      return sweptNothing();
    });
    if (swept.more)
      this.logger.warn('alert sweep: more to open or resolve than one round takes; the next round goes on', {
        opened: swept.opened,
        resolved: swept.resolved,
      });
    if (swept.ran) {
      await this.mirror.tryPublish(swept.changedDevices);
      await this.mirror.publishSummary().catch((err: unknown) => this.logger.warn('fleet summary not published', { err }));
    }
    const healed = await this.healing.run(settings).catch((err: unknown) => {
      this.logger.error('self-healing failed', { err });
      return null;
    });
    const delivered = await this.delivery.run(settings).catch((err: unknown) => {
      this.logger.error('alert delivery failed', { err });
      return null;
    });
    return { swept: { opened: swept.opened, resolved: swept.resolved, notices: swept.notices, ran: swept.ran }, healed, delivered };
  }

  /**
   * An alert about the fleet rather than one device (a rollout paused by its gate): one message per
   * configured channel, put in the same outbox the device alerts go through, so it is sent, retried
   * and dropped like them (by this tick's delivery or the next). Takes `db` so the caller can write it
   * in the transaction that decided it. Returns the channels it went to.
   */
  async raiseOperatorAlert(db: Db, kind: OperatorAlertKind, message: Omit<OutgoingMessage, 'at'>): Promise<Channel[]> {
    const settings = await this.settings.current();
    const at = this.clock.now();
    const channels = CHANNELS.filter((c) => targetOf(settings, c));
    for (const channel of channels) {
      await insertMessage(db, { channel, type: 'alert', at, payload: { ...message, at: at.toISOString() } });
    }
    this.logger.info('operator alert raised', { kind, title: message.title, channels });
    return channels;
  }

  /** Retiring devices: their open alerts resolve and their conditions are forgotten (the sweep skips them from now on). */
  closeForDevices(deviceIds: string[]): Promise<number> {
    return closeAlertsOfDevices(this.db, deviceIds, this.clock.now());
  }

  async list(q: ListAlertsQuery) {
    const after = decodeTimeCursor(q.cursor);
    const rows = await listAlerts(this.db, { status: q.status, kind: q.kind, deviceId: q.deviceId, after, limit: q.limit + 1 });
    const pageRows = rows.slice(0, q.limit);
    const last = pageRows.at(-1);
    return {
      items: pageRows.map(view),
      nextCursor: rows.length > q.limit && last ? encodeTimeCursor(last.opened_at, last.id) : null,
    };
  }

  async get(id: string) {
    const row = await findAlert(this.db, id);
    if (!row) throw notFound('alert');
    return view(row);
  }

  /** A person has it: recorded once, and self-healing leaves the alert alone from now on. */
  async acknowledge(actor: AdminActor, id: string, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      const row = await lockAlert(trx, id);
      if (!row) throw notFound('alert');
      if (row.acknowledged_at) return;
      await acknowledgeAlert(trx, id, this.clock.now(), actor.id);
      await this.audit.record(
        trx,
        actor,
        { action: 'acknowledged_alert', target: { type: 'alert', id }, deviceId: row.device_id, details: { kind: row.kind } },
        ip,
      );
    });
    return this.get(id);
  }

  /** Acknowledges the given alerts, or every open one matching a filter, in one transaction audited once. */
  async acknowledgeMany(actor: AdminActor, body: BulkAckBody, ip: string) {
    if ((body.ids === undefined) === (body.filter === undefined)) throw badRequest('ids_or_filter_required', 'give either ids or a filter');
    const ids = body.ids ? [...new Set(body.ids)] : undefined;
    const filter = body.filter ? Object.fromEntries(Object.entries(body.filter).filter(([, v]) => v !== undefined)) : undefined;
    const count = await this.db.transaction().execute(async (trx) => {
      if (ids && (await countAlerts(trx, ids)) !== ids.length) throw notFound('alert');
      const done = await acknowledgeAlerts(trx, { ids, ...body.filter }, this.clock.now(), actor.id);
      await this.audit.record(
        trx,
        actor,
        { action: 'acknowledged_alerts', target: { type: 'alert_batch', id: randomUUID() }, details: { count: done.length, ids, filter } },
        ip,
      );
      return done.length;
    });
    return { acknowledged: count };
  }

  async settingsView() {
    return publicView(await this.settings.current());
  }

  async updateSettings(actor: AdminActor, patch: SettingsPatch, ip: string) {
    return publicView(await this.settings.update(actor, patch, ip));
  }

  /** Sends a test message now through each configured channel (or the one asked for), recording each. */
  async sendTest(actor: AdminActor, only: Channel | undefined, ip: string) {
    // every test reaches out of the network: a few per admin per window, counted before sending
    const verdict = await this.limiter.attempt('channel_test', actor.id, CHANNEL_TESTS_PER_WINDOW);
    if (!verdict.allowed) throw tooManyRequests(verdict.retryAfterSec);
    const settings = await this.settings.current();
    const now = this.clock.now();
    const results: { channel: Channel; ok: boolean; failure?: FailureClass; error?: string }[] = [];
    for (const channel of CHANNELS.filter((c) => !only || c === only)) {
      const target = targetOf(settings, channel);
      if (!target) {
        results.push({ channel, ok: false, error: `${channel} is not enabled or not configured` });
        continue;
      }
      const message = {
        title: 'Fleet MDM test message',
        text: `A test from ${actor.email}: alerts for this fleet will arrive here.`,
        severity: 'info' as const,
        items: [],
        at: now.toISOString(),
      };
      const result = await this.notifier.send(message, target);
      // the answer is told by its kind only, in our words: a test must not read or map what answers
      const failure = result.ok ? undefined : (result.failure ?? 'remote_error');
      const error = failure && FAILURE_TEXT[failure];
      await insertTestMessage(this.db, { channel, at: now, sent: result.ok, error: error ?? null, payload: message });
      if (!result.ok) this.logger.warn('a test message was not sent', { channel, failure, err: result.error });
      results.push(failure ? { channel, ok: false, failure, error } : { channel, ok: true });
    }
    await this.audit.record(
      this.db,
      actor,
      {
        action: 'sent_test_notification',
        target: { type: 'settings', id: 'alerts' },
        details: { channels: results.map((r) => r.channel) },
      },
      ip,
    );
    return { results };
  }

  async notifications(q: {
    channel?: Channel | undefined;
    status?: 'pending' | 'sending' | 'sent' | 'failed' | 'dropped' | undefined;
    cursor?: string | undefined;
    limit: number;
  }) {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, (c) => (typeof c.id === 'number' ? c.id : null));
    const rows = await listMessages(this.db, { channel: q.channel, status: q.status, beforeId: after, limit: q.limit + 1 });
    const pageRows = rows.slice(0, q.limit);
    return {
      items: pageRows.map((n) => ({
        id: n.id,
        channel: n.channel,
        type: n.type,
        status: n.status,
        attempts: n.attempts,
        createdAt: n.created_at,
        sentAt: n.sent_at,
        nextAttemptAt: n.next_attempt_at,
        lastError: n.last_error,
        title: String((n.payload as { title?: unknown }).title ?? ''),
      })),
      nextCursor: rows.length > q.limit ? encodeCursor({ id: pageRows.at(-1)!.id }) : null,
    };
  }
}

function view(a: AlertRow) {
  return {
    id: a.id,
    kind: a.kind,
    status: a.status,
    device: { id: a.device_id, name: a.device_name, group: a.group_name },
    conditionSince: a.condition_since,
    openedAt: a.opened_at,
    resolvedAt: a.resolved_at,
    acknowledgedAt: a.acknowledged_at,
    acknowledgedBy: a.acknowledged_by_email,
    details: a.details,
    remediation: a.remediation,
  };
}
