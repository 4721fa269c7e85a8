import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { CatalogService } from '../catalog/index.js';
import { decodeTimeCursor, encodeTimeCursor } from '../core/cursor.js';
import { AppError, badRequest, forbidden, notFound } from '../core/errors.js';
import type { AdminActor, DeviceActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { decrypt } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import type { Command } from '../ports/schema.generated.js';
import type { Logger } from '../ports/logger.js';
import type { Queue } from '../ports/queue.js';
import {
  applyResult,
  cancelOpenCommands,
  commandStatusOfDevice,
  expireCommands,
  findCommand,
  insertBatch,
  listCommands,
  listDispatches,
  markDispatchedByHeartbeat,
  pendingForDevice,
  type Target,
} from './commands.repository.js';
import {
  DESTRUCTIVE,
  PARAMS,
  type CommandStatus,
  type CreateCommandInput,
  type Envelope,
  type ListCommandsQuery,
  type ResultInput,
} from './commands.schemas.js';
import { signEnvelope, unixSeconds } from './envelope.js';

export interface CommandServiceOptions {
  /** Seals device HMAC keys at rest. */
  encryptionKey: Buffer;
  defaultTtlSec: number;
  /** Most envelopes one heartbeat response carries. */
  maxPerHeartbeat: number;
  /** Where INSTALL_APK finds the release it names. */
  releases?: Pick<CatalogService, 'installable'> | undefined;
}

export type CommandActor = AdminActor | { kind: 'system'; name: string };

interface InstallApkParams {
  releaseId: string;
  allowDowngrade?: boolean;
}

const FINAL: ReadonlySet<CommandStatus> = new Set(['succeeded', 'failed', 'rejected']);

export class CommandService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly queue: Queue,
    private readonly logger: Logger,
    private readonly options: CommandServiceOptions,
  ) {}

  /**
   * The signed params of an INSTALL_APK: the release's package, versions, download URL, SHA-256 and
   * signer digest, which the agent verifies before installing. A bad or unknown release is refused.
   */
  private async installParams(p: InstallApkParams) {
    if (!this.options.releases) throw badRequest('install_needs_release', 'this server has no app catalog');
    const r = await this.options.releases.installable(p.releaseId);
    return { ...r, ...(p.allowDowngrade === undefined ? {} : { allowDowngrade: p.allowDowngrade }) };
  }

  /** Creates one command per targeted device (one batch), audits it, and queues the batch for push. */
  async create(actor: CommandActor, input: CreateCommandInput, ip?: string) {
    if (input.type === 'WIPE' && actor.kind === 'admin' && actor.role !== 'admin') throw forbidden('only admins may wipe devices');
    const target: Target = input.deviceIds
      ? { deviceIds: [...new Set(input.deviceIds)] }
      : input.group !== undefined
        ? { group: input.group }
        : input.tag !== undefined
          ? { tag: input.tag }
          : { all: true };
    if (DESTRUCTIVE.has(input.type) && !('deviceIds' in target) && input.confirm !== input.type) {
      throw new AppError(
        428,
        'confirmation_required',
        `${input.type} for ${'all' in target ? 'the whole fleet' : 'group' in target ? `group "${target.group}"` : `tag "${target.tag}"`} needs "confirm": "${input.type}"`,
      );
    }
    if (input.type === 'INSTALL_APK' && input.params && ['url', 'sha256', 'signerSha256'].some((k) => k in input.params!)) {
      throw badRequest(
        'install_needs_release',
        'INSTALL_APK installs only from the app catalog: send params {"releaseId": "<id>"}; the server fills in the URL, SHA-256 and signer',
      );
    }
    const parsed = PARAMS[input.type].safeParse(input.params ?? {});
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
      throw badRequest('invalid_params', `invalid params for ${input.type} - ${why}`);
    }
    const params = input.type === 'INSTALL_APK' ? await this.installParams(parsed.data as InstallApkParams) : parsed.data;
    const now = this.clock.now();
    const notBefore = input.notBefore ? new Date(input.notBefore) : now;
    const expiresAt = new Date(now.getTime() + (input.expiresInSec ?? this.options.defaultTtlSec) * 1000);
    if (notBefore >= expiresAt) throw badRequest('invalid_request', 'notBefore must come before the command expires');
    const batchId = randomUUID();

    const commands = await this.db.transaction().execute(async (trx) => {
      const rows = await insertBatch(
        trx,
        {
          batchId,
          type: input.type,
          params: JSON.stringify(params),
          createdAt: now,
          createdByType: actor.kind,
          createdBy: actor.kind === 'admin' ? actor.id : null,
          notBefore,
          expiresAt,
        },
        target,
      );
      if ('deviceIds' in target && rows.length < target.deviceIds.length) {
        const found = new Set(rows.map((r) => r.device_id));
        throw new AppError(
          404,
          'not_found',
          `unknown or retired devices: ${target.deviceIds
            .filter((id) => !found.has(id))
            .slice(0, 10)
            .join(', ')}`,
        );
      }
      if (rows.length === 0) throw badRequest('no_devices', 'the selection matches no device');
      await this.audit.record(
        trx,
        actor,
        {
          action: 'sent_command',
          target: { type: 'command_batch', id: batchId },
          deviceId: rows.length === 1 ? rows[0]!.device_id : undefined,
          details: {
            type: input.type,
            params: params as Record<string, unknown>,
            target: describe(target),
            count: rows.length,
            expiresAt: expiresAt.toISOString(),
          },
        },
        ip,
      );
      return rows;
    });
    await this.queue
      .publish({ batchId })
      .catch((err: unknown) => this.logger.warn('could not queue a command batch for push; heartbeats will deliver it', { batchId, err }));
    return {
      batchId,
      count: commands.length,
      commands: commands.map((c) => ({ id: c.id, deviceId: c.device_id, type: c.type, status: c.status })),
    };
  }

  async list(q: ListCommandsQuery) {
    const cursor = decodeTimeCursor(q.cursor);
    const after = cursor && { createdAt: cursor.at, id: cursor.id };
    const rows = await listCommands(this.db, { ...q, after, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map(view),
      nextCursor: rows.length > q.limit && last ? encodeTimeCursor(last.created_at, last.id) : null,
    };
  }

  async get(id: string) {
    const row = await findCommand(this.db, id);
    if (!row) throw notFound('command');
    const dispatches = await listDispatches(this.db, id);
    return {
      ...view(row),
      dispatches: dispatches.map((d) => ({
        at: d.at,
        channel: d.channel,
        attempt: d.attempt,
        outcome: d.outcome,
        messageId: d.message_id,
        error: d.error,
      })),
    };
  }

  /**
   * A device reports on one of its own commands. Idempotent: the same report again changes nothing;
   * a final state is never replaced by another (409), and a report on another device's command is
   * answered as if the command did not exist.
   */
  async reportResult(device: DeviceActor, id: string, input: ResultInput, ip?: string) {
    const now = this.clock.now();
    const { previous, updated, retired } = await applyResult(this.db, {
      id,
      deviceId: device.deviceId,
      status: input.status,
      now,
      output: input.status === 'delivered' ? null : (input.output ?? null),
      error: input.status === 'delivered' ? null : (input.error ?? null),
    });
    if (retired) throw new AppError(403, 'device_retired', 'this device was retired; enroll it again to use it');
    if (updated) {
      if (input.status === 'succeeded' || input.status === 'failed' || input.status === 'rejected') {
        // the outcome is audited, with the command's type: a WIPE that succeeded is on the record
        const command = await this.db.selectFrom('commands').select('type').where('id', '=', id).executeTakeFirst();
        await this.audit.record(
          this.db,
          device,
          {
            action: 'finished_command',
            target: { type: 'command', id },
            deviceId: device.deviceId,
            details: {
              type: command?.type ?? 'unknown',
              status: input.status,
              ...(input.error ? { error: input.error.slice(0, 200) } : {}),
            },
          },
          ip,
        );
      }
      return { id, status: input.status };
    }
    // Nothing changed: the command ended before (a repeated report is answered as the first was;
    // another outcome is a conflict), or `delivered` came after it moved past that. `previous` is
    // the statement's snapshot: when it still looks open, a concurrent report may have moved it - read
    // it again (rare: a late `delivered`, or two reports racing).
    const current = previous !== null && !FINAL.has(previous) ? await commandStatusOfDevice(this.db, id, device.deviceId) : previous;
    if (current === null) throw notFound('command');
    if (FINAL.has(current)) {
      if (input.status === current || input.status === 'delivered') return { id, status: current };
      throw new AppError(409, 'command_finished', `the command already ended as ${current}`);
    }
    return { id, status: current };
  }

  /** The device's pending commands, signed; those handed out for the first time become dispatched. */
  async pendingEnvelopes(deviceId: string, now: Date): Promise<Envelope[]> {
    const rows = await pendingForDevice(this.db, deviceId, now, this.options.maxPerHeartbeat);
    if (rows.length === 0) return [];
    const key = decrypt(this.options.encryptionKey, rows[0]!.hmac_key_enc);
    const envelopes = rows.map((c) =>
      signEnvelope(key, {
        cid: c.id,
        did: deviceId,
        type: c.type,
        params: c.params,
        iat: unixSeconds(c.created_at),
        exp: unixSeconds(c.expires_at),
      }),
    );
    await markDispatchedByHeartbeat(
      this.db,
      rows.filter((c) => c.status === 'queued').map((c) => c.id),
      now,
    );
    return envelopes;
  }

  /** A retired (or retiring) device's open commands end as expired: they will not be delivered. */
  cancelForDevices(deviceIds: string[]): Promise<number> {
    return cancelOpenCommands(this.db, deviceIds, this.clock.now());
  }

  /** Open commands past expiry become expired (run every minute). */
  expire(): Promise<number> {
    return expireCommands(this.db, this.clock.now());
  }
}

function describe(target: Target): string {
  if ('deviceIds' in target) return `${target.deviceIds.length} device(s)`;
  if ('group' in target) return `group ${target.group}`;
  if ('tag' in target) return `tag ${target.tag}`;
  return 'all devices';
}

function view(c: Command) {
  return {
    id: c.id,
    batchId: c.batch_id,
    deviceId: c.device_id,
    type: c.type,
    params: JSON.parse(c.params) as Record<string, unknown>,
    status: c.status,
    createdAt: c.created_at,
    createdBy: { type: c.created_by_type, id: c.created_by },
    notBefore: c.not_before,
    expiresAt: c.expires_at,
    dispatchedAt: c.dispatched_at,
    deliveredAt: c.delivered_at,
    completedAt: c.completed_at,
    output: c.output,
    error: c.error,
  };
}
