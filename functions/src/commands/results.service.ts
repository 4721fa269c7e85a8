import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, notFound } from '../core/errors.js';
import type { DeviceActor } from '../core/route.js';
import type { Db } from '../ports/db.js';
import { recordLateReport } from './cancel.repository.js';
import { applyResult, commandStatusOfDevice, findCommand } from './commands.repository.js';
import type { CommandStatus, ResultInput } from './commands.schemas.js';

const FINAL: ReadonlySet<CommandStatus> = new Set(['succeeded', 'failed', 'rejected']);

/** What devices report on their commands: results, and acknowledgements of cancels. */
export class ResultService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  /**
   * A device reports on one of its own commands. Idempotent: the same report again changes nothing;
   * a final state is never replaced by another (409), and a report on another device's command is
   * answered as if the command did not exist.
   */
  async reportResult(device: DeviceActor, id: string, input: ResultInput, ip?: string): Promise<{ id: string; status: CommandStatus }> {
    const now = this.clock.now();
    const output = input.status === 'delivered' || input.status === 'cancelled' ? null : (input.output ?? null);
    const error = input.status === 'delivered' ? null : (input.error ?? null);
    const { previous, updated, retired } =
      input.status === 'cancelled'
        ? { previous: await commandStatusOfDevice(this.db, id, device.deviceId), updated: false, retired: false }
        : await applyResult(this.db, { id, deviceId: device.deviceId, status: input.status, now, output, error });
    // the statement refuses a retired device's report (docs/lifecycle.md): its credentials ended with the retire
    if (retired) throw new AppError(403, 'device_retired', 'this device was retired; enroll it again to use it');
    if (updated) {
      if (input.status === 'succeeded' || input.status === 'failed' || input.status === 'rejected') {
        await this.auditOutcome(device, id, input, false, ip);
      }
      return { id, status: input.status };
    }
    if (previous === 'cancelled') {
      // cancelled: the report is kept (the device may have run it before the cancel reached it), the status stays
      const recorded = await recordLateReport(this.db, { id, deviceId: device.deviceId, status: input.status, now, output, error });
      if (recorded && input.status !== 'delivered') await this.auditOutcome(device, id, input, true, ip);
      return { id, status: 'cancelled' as const };
    }
    if (input.status === 'cancelled') {
      if (previous === null) throw notFound('command');
      throw new AppError(409, 'not_cancelled', `the command was not cancelled (it is ${previous})`);
    }
    // Nothing changed: the command ended before (a repeated report is answered as the first was;
    // another outcome is a conflict), or `delivered` came after it moved past that. `previous` is
    // the statement's snapshot: when it still looks open, a concurrent report may have moved it - read
    // it again (rare: a late `delivered`, or two reports racing).
    const current = previous !== null && !FINAL.has(previous) ? await commandStatusOfDevice(this.db, id, device.deviceId) : previous;
    if (current === null) throw notFound('command');
    if (current === 'cancelled') return this.reportResult(device, id, input, ip);
    if (FINAL.has(current)) {
      if (input.status === current || input.status === 'delivered') return { id, status: current };
      throw new AppError(409, 'command_finished', `the command already ended as ${current}`);
    }
    return { id, status: current };
  }

  /** The device's final word on a command is audited with its type: a WIPE that succeeded is on the record. */
  private async auditOutcome(device: DeviceActor, id: string, input: ResultInput, afterCancel: boolean, ip?: string) {
    const command = await findCommand(this.db, id);
    await this.audit.record(
      this.db,
      device,
      {
        action: 'finished_command',
        target: { type: 'command', id },
        deviceId: device.deviceId,
        details: {
          type: command?.type ?? 'unknown',
          status: input.status as 'succeeded' | 'failed' | 'rejected' | 'cancelled',
          ...(input.error ? { error: input.error.slice(0, 200) } : {}),
          ...(afterCancel ? { afterCancel: true } : {}),
        },
      },
      ip,
    );
  }
}
