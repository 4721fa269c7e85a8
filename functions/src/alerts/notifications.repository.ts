import { sql } from 'kysely';
import type { Db } from '../ports/db.js';
import type { OutgoingMessage } from '../ports/notifier.js';
import type { AlertNotice, Notification } from '../ports/schema.generated.js';
import type { AlertKind } from './alert-kinds.js';

/**
 * The notice outbox (alert_notices: what to tell which channel) and the messages composed from it
 * (notifications: sent, failed, waiting). Plain functions over `db` or a transaction, returning plain
 * rows; transactions begin in the services.
 */

type Channel = Notification['channel'];
type NotificationStatus = Notification['status'];

// --- notices

/** Puts one notice per channel in the outbox for an alert. */
export async function insertNotices(db: Db, alertId: string, channels: Channel[], type: AlertNotice['type'], at: Date): Promise<void> {
  if (channels.length === 0) return;
  await db
    .insertInto('alert_notices')
    .values(channels.map((channel) => ({ alert_id: alertId, channel, type, created_at: at })))
    .execute();
}

/** A notice not yet in a message, with what a message says about its alert and device. */
export interface NoticeRow {
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

/** One composer per channel at a time (transaction-scoped advisory locks, one key per channel). */
const COMPOSE_LOCK: Record<Channel, number> = { discord: 727300011, email: 727300012 };

/**
 * Waits for the channel's compose lock, held to the end of the transaction. Without it two composers
 * locking the outbox row by row (skip locked) would each take part of a group and split its digest; with
 * it the second composer starts after the first committed and sees only what is still pending.
 */
export async function lockComposer(trx: Db, channel: Channel): Promise<void> {
  await sql`select pg_advisory_xact_lock(${COMPOSE_LOCK[channel]}::bigint)`.execute(trx);
}

/** A channel's notices not yet in a message, oldest first, locked (others' locked ones skipped). */
export async function lockPendingNotices(trx: Db, channel: Channel): Promise<NoticeRow[]> {
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
  return rows;
}

/** Marks notices as carried by a message. */
export async function attachNotices(trx: Db, noticeIds: number[], notificationId: number): Promise<void> {
  await sql`update alert_notices set notification_id = ${notificationId}::bigint
    where id = any(${noticeIds}::bigint[])`.execute(trx);
}

// --- messages

/** Messages of a channel (tests left out) created after `since`. */
export async function countMessagesSince(db: Db, channel: Channel, since: Date): Promise<number> {
  const { rows: recent } = await sql<{ n: number }>`
    select count(*)::int as n from notifications
    where channel = ${channel} and type <> 'test' and created_at > ${since}::timestamptz`.execute(db);
  return recent[0]!.n;
}

/** A composed message, due at once; its id. */
export async function insertMessage(
  db: Db,
  m: { channel: Channel; type: Notification['type']; at: Date; payload: OutgoingMessage },
): Promise<number> {
  const { rows: inserted } = await sql<{ id: number }>`
    insert into notifications (channel, type, created_at, next_attempt_at, payload)
    values (${m.channel}, ${m.type}, ${m.at}::timestamptz, ${m.at}::timestamptz, ${JSON.stringify(m.payload)}::jsonb)
    returning id`.execute(db);
  return inserted[0]!.id;
}

/** A test message, recorded as sent or dropped after one attempt. */
export async function insertTestMessage(
  db: Db,
  m: { channel: Channel; at: Date; sent: boolean; error: string | null; payload: OutgoingMessage },
): Promise<void> {
  await sql`
    insert into notifications (channel, type, created_at, status, attempts, next_attempt_at, sent_at, last_error, payload)
    values (${m.channel}, 'test', ${m.at}::timestamptz, ${m.sent ? 'sent' : 'dropped'}, 1, ${m.at}::timestamptz,
      ${m.sent ? m.at : null}::timestamptz, ${m.error}, ${JSON.stringify(m.payload)}::jsonb)`.execute(db);
}

/**
 * Claims up to 100 messages that are due (pending or failed and due again, or held by a sender whose
 * lease ran out): each is marked sending, leased until `leaseUntil`, and counted as an attempt.
 */
export async function claimDueMessages(db: Db, now: Date, leaseUntil: Date) {
  const { rows: claimed } = await sql<{ id: number; channel: Channel; attempts: number; payload: OutgoingMessage }>`
    update notifications set status = 'sending', attempts = attempts + 1,
      locked_until = ${leaseUntil}::timestamptz
    where id in (
      select id from notifications
      where (status in ('pending', 'failed') and next_attempt_at <= ${now}::timestamptz)
         or (status = 'sending' and locked_until < ${now}::timestamptz)
      order by id limit 100
      for update skip locked)
    returning id, channel, attempts, payload`.execute(db);
  return claimed;
}

export async function markMessageSent(db: Db, id: number, at: Date): Promise<void> {
  await sql`update notifications set status = 'sent', sent_at = ${at}::timestamptz, locked_until = null, last_error = null
    where id = ${id}::bigint`.execute(db);
}

/** A message not sent: failed (due again at `nextAttemptAt`) or dropped for good. */
export async function markMessageUnsent(
  db: Db,
  id: number,
  u: { status: 'failed' | 'dropped'; error: string; nextAttemptAt: Date },
): Promise<void> {
  await sql`update notifications set status = ${u.status}, last_error = ${u.error}, locked_until = null,
      next_attempt_at = ${u.nextAttemptAt}::timestamptz
    where id = ${id}::bigint`.execute(db);
}

export interface MessageFilter {
  channel?: Channel | undefined;
  status?: NotificationStatus | undefined;
  /** Keyset: messages with a smaller id. */
  beforeId?: number | undefined;
  limit: number;
}

/** Newest first, at most `limit` rows. */
export async function listMessages(db: Db, f: MessageFilter) {
  let query = db.selectFrom('notifications').selectAll().orderBy('id', 'desc').limit(f.limit);
  if (f.channel) query = query.where('channel', '=', f.channel);
  if (f.status) query = query.where('status', '=', f.status);
  if (f.beforeId !== undefined) query = query.where('id', '<', f.beforeId);
  return query.execute();
}
