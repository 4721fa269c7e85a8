import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, notFound } from '../core/errors.js';
import type { StaffActor } from '../core/route.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { batchExists, cancelOpen } from './cancel.repository.js';
import { findCommand } from './commands.repository.js';
import type { CommandDispatcher } from './dispatcher.js';

const cancelledBy = (actor: StaffActor) => `${actor.kind}:${actor.id}`;

/**
 * Cancels commands that have not started. A cancelled command is final and never handed out again;
 * a device that may hold it is told (heartbeat answers name it until it answers, and a signed CANCEL
 * push where push exists), refuses it and reports `cancelled`.
 */
export class CancelService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly logger: Logger,
    private readonly cancels: Pick<CommandDispatcher, 'pushCancels'>,
  ) {}

  /**
   * Cancels one command that has not started (queued or dispatched): it is never handed out again,
   * the device is told (heartbeat answers, and a push where there is one) and refuses it. A command
   * the device already started (delivered) or that ended is 409; cancelling twice answers the same.
   */
  async cancel(actor: StaffActor, id: string, ip?: string) {
    const rows = await this.db.transaction().execute(async (trx) => {
      const moved = await cancelOpen(trx, { id }, this.clock.now(), cancelledBy(actor));
      if (moved.length === 0) {
        const row = await findCommand(trx, id);
        if (!row) throw notFound('command');
        if (row.status === 'cancelled') return moved;
        if (row.status === 'delivered')
          throw new AppError(409, 'command_started', 'the device already started the command; it cannot be cancelled');
        throw new AppError(409, 'command_finished', `the command already ended as ${row.status}`);
      }
      await this.audit.record(
        trx,
        actor,
        {
          action: 'cancelled_command',
          target: { type: 'command', id },
          deviceId: moved[0]!.device_id,
          details: { type: moved[0]!.type, count: 1 },
        },
        ip,
      );
      return moved;
    });
    await this.tellCancelled(rows);
    return { cancelled: rows.length, ids: rows.map((r) => r.id) };
  }

  /** Cancels every command of a batch that has not started; the others are left as they are. */
  async cancelBatch(actor: StaffActor, batchId: string, ip?: string) {
    const rows = await this.db.transaction().execute(async (trx) => {
      const moved = await cancelOpen(trx, { batchId }, this.clock.now(), cancelledBy(actor));
      if (moved.length === 0) {
        if (!(await batchExists(trx, batchId))) throw notFound('command batch');
        return moved;
      }
      await this.audit.record(
        trx,
        actor,
        {
          action: 'cancelled_command',
          target: { type: 'command_batch', id: batchId },
          deviceId: moved.length === 1 ? moved[0]!.device_id : undefined,
          details: { type: moved[0]!.type, count: moved.length },
        },
        ip,
      );
      return moved;
    });
    await this.tellCancelled(rows);
    return { cancelled: rows.length, ids: rows.map((r) => r.id) };
  }

  /** Pushes a signed CANCEL to devices that may hold a cancelled command (heartbeats tell them anyway). */
  private async tellCancelled(rows: { id: string; dispatched_at: Date | null }[]) {
    const told = rows.filter((r) => r.dispatched_at !== null).map((r) => r.id);
    if (told.length) {
      await this.cancels
        .pushCancels(told)
        .catch((err: unknown) => this.logger.warn('could not push a cancel; heartbeats will tell', { err }));
    }
  }
}
