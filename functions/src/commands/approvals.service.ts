import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, forbidden, gone, notFound } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { Db } from '../ports/db.js';
import type { CommandApproval } from '../ports/schema.generated.js';
import { decideApproval, expireApprovals, insertApproval, listApprovals, lockApproval } from './approvals.repository.js';
import { confirmationRequired, describeTarget, type BatchSpec, type BatchWriter } from './blast-radius.js';
import { countTarget, type Target } from './commands.repository.js';
import { isIrreversible, type CommandType } from './commands.schemas.js';

/** How long a WIPE request waits for a second admin. */
export const APPROVAL_TTL_MS = 3600_000;

/**
 * The second pair of eyes on a WIPE that reaches more than one device: the request is kept (what,
 * to whom, the confirmed count) and an admin who is not the requester approves it - the batch is
 * created then, in the approver's transaction - or rejects it; after an hour it expires. Every step
 * is audited.
 */
export class ApprovalService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly commands: BatchWriter,
  ) {}

  /**
   * Counts the target in the transaction that writes the request: a count other than the confirmed
   * one is 428 again. One device: undefined (a single-device WIPE or RELEASE_OWNER is sent at once).
   */
  async requestIfMany(actor: AdminActor, spec: BatchSpec & { confirmed: number }, ip?: string) {
    const type = spec.type;
    if (!isIrreversible(type)) throw new Error(`${type} never waits for an approval`);
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const count = await countTarget(trx, spec.target);
      if (count !== spec.confirmed) throw confirmationRequired(spec.type, count, spec.target, spec.confirmed);
      if (count <= 1) return undefined;
      const row = await insertApproval(trx, {
        id: randomUUID(),
        type,
        params: JSON.stringify(spec.params),
        target: spec.target,
        count,
        expiresInSec: spec.ttlSec,
        notBefore: spec.notBefore,
        requestedBy: actor.id,
        requestedByEmail: actor.email,
        requestedAt: now,
        expiresAt: new Date(now.getTime() + APPROVAL_TTL_MS),
      });
      await this.audit.record(
        trx,
        actor,
        {
          action: 'requested_command_approval',
          target: { type: 'command_approval', id: row.id },
          details: { type: spec.type, target: describeTarget(spec.target), count, expiresAt: row.expires_at.toISOString() },
        },
        ip,
      );
      return view(row);
    });
  }

  async list(status?: CommandApproval['status']) {
    return { items: (await listApprovals(this.db, status, 200)).map(view) };
  }

  /** Another admin approves: the batch is created with the request's count confirmed (428 if it changed). */
  async approve(actor: AdminActor, id: string, ip?: string) {
    const { approval, batchId } = await this.db.transaction().execute(async (trx) => {
      const row = await this.pending(trx, actor, id, 'approve');
      const target = row.target as Target;
      const spec: BatchSpec = {
        type: row.type as CommandType,
        params: JSON.parse(row.params) as Record<string, unknown>,
        target,
        notBefore: row.not_before,
        ttlSec: row.expires_in_sec,
        confirmed: row.device_count,
      };
      const created = await this.commands.writeBatch(actor, spec, ip, trx, { approvalId: id });
      const decided = await decideApproval(trx, id, {
        status: 'approved',
        by: actor.id,
        byEmail: actor.email,
        at: this.clock.now(),
        batchId: created.batchId,
      });
      await this.audit.record(
        trx,
        actor,
        {
          action: 'approved_command',
          target: { type: 'command_approval', id },
          details: {
            type: row.type,
            target: describeTarget(target),
            count: created.count,
            batchId: created.batchId,
            requestedBy: row.requested_by_email,
          },
        },
        ip,
      );
      return { approval: view(decided!), batchId: created.batchId };
    });
    await this.commands.queueBatch(batchId);
    return approval;
  }

  /** An admin rejects the request (the requester may withdraw their own). */
  async reject(actor: AdminActor, id: string, reason: string | undefined, ip?: string) {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.pending(trx, actor, id, 'reject');
      const decided = await decideApproval(trx, id, {
        status: 'rejected',
        by: actor.id,
        byEmail: actor.email,
        at: this.clock.now(),
        reason: reason ?? null,
      });
      await this.audit.record(
        trx,
        actor,
        {
          action: 'rejected_command',
          target: { type: 'command_approval', id },
          details: {
            type: row.type,
            target: describeTarget(row.target as Target),
            count: row.device_count,
            requestedBy: row.requested_by_email,
            reason,
          },
        },
        ip,
      );
      return view(decided!);
    });
  }

  /** The minute's job: requests past their hour expire, each audited. */
  async expire(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await expireApprovals(trx, this.clock.now());
      for (const row of rows) {
        await this.audit.record(
          trx,
          { kind: 'system', name: 'approvals' },
          {
            action: 'expired_command_approval',
            target: { type: 'command_approval', id: row.id },
            details: {
              type: row.type,
              target: describeTarget(row.target as Target),
              count: row.device_count,
              requestedBy: row.requested_by_email,
            },
          },
        );
      }
      return rows.length;
    });
  }

  /** The request, locked and still pending (404, 409 decided, 410 expired); self-approval is 403. */
  private async pending(trx: Parameters<typeof lockApproval>[0], actor: AdminActor, id: string, what: 'approve' | 'reject') {
    const row = await lockApproval(trx, id);
    if (!row) throw notFound('approval request');
    if (row.status !== 'pending') throw new AppError(409, 'approval_decided', `the request was already ${row.status}`);
    if (row.expires_at <= this.clock.now()) throw gone('approval_expired', 'the request expired (an hour); send the command again');
    if (what === 'approve' && row.requested_by === actor.id) throw forbidden('another admin must approve your own request');
    return row;
  }
}

function view(r: CommandApproval) {
  return {
    id: r.id,
    type: r.type,
    params: JSON.parse(r.params) as Record<string, unknown>,
    target: describeTarget(r.target as Target),
    count: r.device_count,
    status: r.status,
    requestedBy: { id: r.requested_by, email: r.requested_by_email },
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    decidedBy: r.decided_at && r.decided_by_email ? { id: r.decided_by, email: r.decided_by_email } : null,
    decidedAt: r.decided_at,
    reason: r.reason,
    batchId: r.batch_id,
  };
}
