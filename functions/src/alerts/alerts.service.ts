import { sql } from 'kysely';
import type { AuditService } from '../audit/audit.service.js';
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from '../http/cursor.js';
import { notFound } from '../http/errors.js';
import type { AdminActor } from '../http/route.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/connect.js';
import type { Logger } from '../platform/logger.js';
import type { Notifier } from '../platform/notifier.js';
import type { DeviceMirror } from '../devices/device-mirror.js';
import { publicView, type AlertSettingsService, type SettingsPatch } from './alert-settings.js';
import type { ListAlertsQuery } from './alerts.schemas.js';
import { CHANNELS, targetOf, type AlertDelivery, type Channel } from './delivery.js';
import type { SelfHealing } from './self-healing.js';
import { sweep } from './sweep.js';

/** The alerts context: the minute's work (sweep, self-healing, delivery) and the admin API. */
export class AlertService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly settings: AlertSettingsService,
    private readonly healing: SelfHealing,
    private readonly delivery: AlertDelivery,
    private readonly notifier: Notifier,
    private readonly mirror: DeviceMirror,
    private readonly logger: Logger,
  ) {}

  /** One round: raise and resolve, take self-healing steps, tell people. A failure in one part does not stop the others. */
  async tick() {
    const settings = await this.settings.current();
    const swept = await sweep(this.db, settings, this.clock.now());
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

  async list(q: ListAlertsQuery) {
    const after = decodeTimeCursor(q.cursor);
    let query = this.base()
      .orderBy('a.opened_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(q.limit + 1);
    if (q.status) query = query.where('a.status', '=', q.status);
    if (q.kind) query = query.where('a.kind', '=', q.kind);
    if (q.deviceId) query = query.where('a.device_id', '=', q.deviceId);
    if (after) query = query.where((eb) => eb(eb.refTuple('a.opened_at', 'a.id'), '<', eb.tuple(after.at, after.id)));
    const rows = await query.execute();
    const pageRows = rows.slice(0, q.limit);
    const last = pageRows.at(-1);
    return {
      items: pageRows.map(view),
      nextCursor: rows.length > q.limit && last ? encodeTimeCursor(last.opened_at, last.id) : null,
    };
  }

  async get(id: string) {
    const row = await this.base().where('a.id', '=', id).executeTakeFirst();
    if (!row) throw notFound('alert');
    return view(row);
  }

  /** A person has it: recorded once, and self-healing leaves the alert alone from now on. */
  async acknowledge(actor: AdminActor, id: string, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('alerts')
        .select(['id', 'kind', 'device_id', 'acknowledged_at'])
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw notFound('alert');
      if (row.acknowledged_at) return;
      await trx.updateTable('alerts').set({ acknowledged_at: this.clock.now(), acknowledged_by: actor.id }).where('id', '=', id).execute();
      await this.audit.record(
        trx,
        actor,
        { action: 'acknowledged_alert', target: { type: 'alert', id }, deviceId: row.device_id, details: { kind: row.kind } },
        ip,
      );
    });
    return this.get(id);
  }

  async settingsView() {
    return publicView(await this.settings.current());
  }

  async updateSettings(actor: AdminActor, patch: SettingsPatch, ip: string) {
    return publicView(await this.settings.update(actor, patch, ip));
  }

  /** Sends a test message now through each configured channel (or the one asked for), recording each. */
  async sendTest(actor: AdminActor, only: Channel | undefined, ip: string) {
    const settings = await this.settings.current();
    const now = this.clock.now();
    const results: { channel: Channel; ok: boolean; error?: string }[] = [];
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
      await sql`
        insert into notifications (channel, type, created_at, status, attempts, next_attempt_at, sent_at, last_error, payload)
        values (${channel}, 'test', ${now}::timestamptz, ${result.ok ? 'sent' : 'dropped'}, 1, ${now}::timestamptz,
          ${result.ok ? now : null}::timestamptz, ${result.ok ? null : result.error}, ${JSON.stringify(message)}::jsonb)`.execute(this.db);
      results.push(result.ok ? { channel, ok: true } : { channel, ok: false, error: result.error });
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
    let query = this.db
      .selectFrom('notifications')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(q.limit + 1);
    if (q.channel) query = query.where('channel', '=', q.channel);
    if (q.status) query = query.where('status', '=', q.status);
    if (after !== undefined) query = query.where('id', '<', after);
    const rows = await query.execute();
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

  private base() {
    return this.db
      .selectFrom('alerts as a')
      .innerJoin('devices as d', 'd.id', 'a.device_id')
      .leftJoin('device_groups as g', 'g.id', 'd.group_id')
      .leftJoin('admins as ad', 'ad.id', 'a.acknowledged_by')
      .selectAll('a')
      .select(['g.name as group_name', 'ad.email as acknowledged_by_email'])
      .select(sql<string>`coalesce(d.name, concat_ws(' ', d.model, d.serial))`.as('device_name'))
      .select(
        sql<RemediationJson[]>`coalesce((
          select json_agg(json_build_object('step', m.step, 'action', m.action, 'commandId', m.command_id,
            'commandStatus', c.status, 'takenAt', m.taken_at, 'outcome', m.outcome) order by m.step)
          from alert_remediations m left join commands c on c.id = m.command_id where m.alert_id = a.id), '[]'::json)`.as('remediation'),
      );
  }
}

interface RemediationJson {
  step: number;
  action: string;
  commandId: string | null;
  commandStatus: string | null;
  takenAt: string;
  outcome: string | null;
}

type AlertRow = Awaited<ReturnType<ReturnType<AlertService['base']>['executeTakeFirstOrThrow']>>;

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
