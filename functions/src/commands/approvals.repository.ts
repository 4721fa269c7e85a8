import type { Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import type { CommandApproval, Database } from '../ports/schema.generated.js';
import type { Target } from './commands.repository.js';

type Conn = Kysely<Database>;

export interface NewApproval {
  id: string;
  type: CommandApproval['type'];
  params: string;
  target: Target;
  count: number;
  expiresInSec: number;
  notBefore: Date | null;
  requestedBy: string;
  requestedByEmail: string;
  requestedAt: Date;
  expiresAt: Date;
}

export const insertApproval = (db: Conn, a: NewApproval) =>
  db
    .insertInto('command_approvals')
    .values({
      id: a.id,
      type: a.type,
      params: a.params,
      target: JSON.stringify(a.target),
      device_count: a.count,
      expires_in_sec: a.expiresInSec,
      not_before: a.notBefore,
      requested_by: a.requestedBy,
      requested_by_email: a.requestedByEmail,
      requested_at: a.requestedAt,
      expires_at: a.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();

/** One request, locked: two admins deciding at once are serialized by the row lock. */
export const lockApproval = (db: Conn, id: string) =>
  db.selectFrom('command_approvals').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

export const findApproval = (db: Conn, id: string) =>
  db.selectFrom('command_approvals').selectAll().where('id', '=', id).executeTakeFirst();

export const decideApproval = (
  db: Conn,
  id: string,
  d: {
    status: 'approved' | 'rejected' | 'expired';
    by: string | null;
    byEmail: string | null;
    at: Date;
    reason?: string | null;
    batchId?: string | null;
  },
) =>
  db
    .updateTable('command_approvals')
    .set({
      status: d.status,
      decided_by: d.by,
      decided_by_email: d.byEmail,
      decided_at: d.at,
      reason: d.reason ?? null,
      batch_id: d.batchId ?? null,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();

export function listApprovals(db: Db, status: CommandApproval['status'] | undefined, limit: number) {
  let q = db.selectFrom('command_approvals').selectAll().orderBy('requested_at', 'desc').orderBy('id', 'desc').limit(limit);
  if (status) q = q.where('status', '=', status);
  return q.execute();
}

/** Pending requests past their hour become expired; returns them (each is audited). */
export const expireApprovals = (db: Conn, now: Date) =>
  db
    .updateTable('command_approvals')
    .set({ status: 'expired', decided_at: now })
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .returningAll()
    .execute();
