import type { Kysely } from 'kysely';
import { AppError, badRequest } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { Database } from '../ports/schema.generated.js';
import type { Target } from './commands.repository.js';
import { UNCONFIRMED, type CommandType, type CreateCommandInput } from './commands.schemas.js';

/** A command ready to be written: params checked and filled in, times worked out. */
export interface BatchSpec {
  type: CommandType;
  params: Record<string, unknown>;
  target: Target;
  /** null: due at once. */
  notBefore: Date | null;
  ttlSec: number;
  /** The device count the caller confirmed (undefined: no confirmation was needed). */
  confirmed?: number | undefined;
}

/** How an approved request becomes a batch (CommandService), without the approvals importing it. */
export interface BatchWriter {
  writeBatch(
    actor: AdminActor,
    spec: BatchSpec,
    ip: string | undefined,
    outer: Kysely<Database>,
    extra: { approvalId: string },
  ): Promise<{ batchId: string; count: number }>;
  queueBatch(batchId: string): Promise<void>;
}

export function targetOf(input: Pick<CreateCommandInput, 'deviceIds' | 'group' | 'tag'>): Target {
  if (input.deviceIds) return { deviceIds: [...new Set(input.deviceIds)] };
  if (input.group !== undefined) return { group: input.group };
  if (input.tag !== undefined) return { tag: input.tag };
  return { all: true };
}

/**
 * Whether sending needs `confirm: {type, count}`: every type but PING, sent to more than one device by
 * id, or to a group, a tag or the fleet (a selection whose size the sender may not know, whatever it is).
 */
export const needsConfirmation = (type: CommandType, target: Target): boolean =>
  !UNCONFIRMED.has(type) && (!('deviceIds' in target) || target.deviceIds.length > 1);

export function describeTarget(target: Target): string {
  if ('deviceIds' in target) return `${target.deviceIds.length} device(s)`;
  if ('group' in target) return `group ${target.group}`;
  if ('tag' in target) return `tag ${target.tag}`;
  return 'all devices';
}

/** 428 with what the server counted, for the client to show and resend as `confirm`. */
export function confirmationRequired(type: CommandType, count: number, target: Target, confirmed?: number): AppError {
  const what = `${type} reaches ${count} device${count === 1 ? '' : 's'} (${describeTarget(target)})`;
  const message =
    confirmed === undefined
      ? `${what}: resend with "confirm": {"type": "${type}", "count": ${count}}`
      : `${what}, not ${confirmed}: the selection changed; nothing was sent - confirm the new count`;
  return new AppError(428, 'confirmation_required', message, {}, { confirm: { type, count } });
}

/** An id list naming devices that do not exist is 404; a selection of nothing is 400. */
export function checkFound(target: Target, count: number, rows?: { device_id: string }[]): void {
  if ('deviceIds' in target && count < target.deviceIds.length) {
    const found = new Set(rows?.map((r) => r.device_id));
    const missing = rows ? target.deviceIds.filter((id) => !found.has(id)) : [];
    throw new AppError(
      404,
      'not_found',
      missing.length ? `unknown or retired devices: ${missing.slice(0, 10).join(', ')}` : 'some of the devices are unknown or retired',
    );
  }
  if (count === 0) throw badRequest('no_devices', 'the selection matches no device');
}
