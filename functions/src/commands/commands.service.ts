import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { CatalogService } from '../catalog/index.js';
import { decodeTimeCursor, encodeTimeCursor } from '../core/cursor.js';
import { badRequest, forbidden, notFound } from '../core/errors.js';
import type { Kysely } from 'kysely';
import type { AdminActor, TokenActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { decrypt } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import type { Command, Database } from '../ports/schema.generated.js';
import type { Logger } from '../ports/logger.js';
import type { Queue } from '../ports/queue.js';
import {
  cancelOpenCommands,
  countTarget,
  expireCommands,
  findCommand,
  insertBatch,
  listCommands,
  listDispatches,
  markDispatchedByHeartbeat,
  pendingForDevice,
} from './commands.repository.js';
import { untoldCancels } from './cancel.repository.js';
import { checkFound, confirmationRequired, describeTarget, needsConfirmation, targetOf, type BatchSpec } from './blast-radius.js';
import type { ApprovalService } from './approvals.service.js';
import { IRREVERSIBLE, PARAMS, type CreateCommandInput, type Envelope, type ListCommandsQuery } from './commands.schemas.js';
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

export type CommandActor = AdminActor | TokenActor | { kind: 'system'; name: string };

/** What sending answers: the batch (201), or a WIPE's approval request waiting for a second admin (202). */
export type Sent =
  | { status: 201; body: { batchId: string; count: number; commands: { id: string; deviceId: string; type: string; status: string }[] } }
  | { status: 202; body: { approval: unknown } };

interface InstallApkParams {
  releaseId: string;
  allowDowngrade?: boolean;
}

export class CommandService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly queue: Queue,
    private readonly logger: Logger,
    private readonly options: CommandServiceOptions,
  ) {}

  /** Set by createCommands: the WIPE approvals (they create batches through writeBatch). */
  approvals!: ApprovalService;

  /**
   * The signed params of an INSTALL_APK: the release's package, versions, download URL, SHA-256 and
   * signer digest, which the agent verifies before installing. A bad or unknown release is refused.
   */
  private async installParams(p: InstallApkParams) {
    if (!this.options.releases) throw badRequest('install_needs_release', 'this server has no app catalog');
    const r = await this.options.releases.installable(p.releaseId);
    return { ...r, ...(p.allowDowngrade === undefined ? {} : { allowDowngrade: p.allowDowngrade }) };
  }

  /**
   * Sends a command. Every type but PING that reaches more than one device, or names a group, a tag or
   * the fleet, needs `confirm: {type, count}` equal to what the server counts; otherwise 428
   * confirmation_required carrying the computed `confirm`, and nothing is written. The count that is
   * checked is the number of rows the INSERT wrote, in the transaction that writes them, so a device
   * joining the group between the 428 and the resend makes it 428 again (rolled back). A WIPE that
   * reaches more than one device becomes a pending approval request instead (approvals.service.ts).
   */
  async send(actor: CommandActor, input: CreateCommandInput, ip?: string): Promise<Sent> {
    if (IRREVERSIBLE.has(input.type)) {
      if (actor.kind === 'token') throw forbidden(`${input.type} is not open to API tokens: an admin sends it`);
      if (actor.kind === 'admin' && actor.role !== 'admin') throw forbidden(`only admins may send ${input.type}`);
    }
    const target = targetOf(input);
    const prepared = await this.prepare(input);
    const mustConfirm = needsConfirmation(input.type, target);
    if (mustConfirm && (!input.confirm || input.confirm.type !== input.type)) {
      const count = await countTarget(this.db, target);
      checkFound(target, count);
      throw confirmationRequired(input.type, count, target);
    }
    const confirmed = mustConfirm ? input.confirm!.count : undefined;
    if (IRREVERSIBLE.has(input.type) && mustConfirm && actor.kind === 'admin') {
      const approval = await this.approvals.requestIfMany(actor, { ...prepared, target, confirmed: confirmed! }, ip);
      if (approval) return { status: 202, body: { approval } };
    }
    return { status: 201, body: await this.writeBatch(actor, { ...prepared, target, confirmed }, ip) };
  }

  /** Sends a command that cannot wait for an approval (the system's self-healing: one device). */
  async create(actor: CommandActor, input: CreateCommandInput, ip?: string) {
    const sent = await this.send(actor, input, ip);
    if (sent.status !== 201) throw new Error('this command needs an approval');
    return sent.body;
  }

  /** Checks the params and fills in what the server adds (INSTALL_APK's release); works out the times. */
  private async prepare(input: CreateCommandInput): Promise<Omit<BatchSpec, 'target' | 'confirmed'>> {
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
    const ttlSec = input.expiresInSec ?? this.options.defaultTtlSec;
    const expiresAt = new Date(now.getTime() + ttlSec * 1000);
    if (notBefore >= expiresAt) throw badRequest('invalid_request', 'notBefore must come before the command expires');
    return {
      type: input.type,
      params: params as Record<string, unknown>,
      notBefore: input.notBefore ? notBefore : null,
      ttlSec,
    };
  }

  /**
   * One command per targeted device in one transaction (one batch), audited, then queued for push.
   * `confirmed`: the count the caller confirmed; the batch is rolled back with a 428 when the INSERT
   * wrote another number of rows. Also the approvals' way in, with the approver's transaction.
   */
  async writeBatch(
    actor: CommandActor | AdminActor,
    spec: BatchSpec,
    ip?: string,
    outer?: Kysely<Database>,
    extra?: { approvalId: string },
  ) {
    const now = this.clock.now();
    const batchId = randomUUID();
    const expiresAt = new Date(now.getTime() + spec.ttlSec * 1000);
    const run = async (trx: Kysely<Database>) => {
      const rows = await insertBatch(
        trx,
        {
          batchId,
          type: spec.type,
          params: JSON.stringify(spec.params),
          createdAt: now,
          createdByType: actor.kind,
          createdBy: actor.kind === 'admin' || actor.kind === 'token' ? actor.id : null,
          notBefore: spec.notBefore ?? now,
          expiresAt,
        },
        spec.target,
      );
      checkFound(spec.target, rows.length, rows);
      if (spec.confirmed !== undefined && rows.length !== spec.confirmed) {
        throw confirmationRequired(spec.type, rows.length, spec.target, spec.confirmed);
      }
      await this.audit.record(
        trx,
        actor,
        {
          action: 'sent_command',
          target: { type: 'command_batch', id: batchId },
          deviceId: rows.length === 1 ? rows[0]!.device_id : undefined,
          details: {
            type: spec.type,
            params: spec.params,
            target: describeTarget(spec.target),
            count: rows.length,
            expiresAt: expiresAt.toISOString(),
            ...(extra ? { approvalId: extra.approvalId } : {}),
          },
        },
        ip,
      );
      return rows;
    };
    const commands = outer ? await run(outer) : await this.db.transaction().execute(run);
    const created = {
      batchId,
      count: commands.length,
      commands: commands.map((c) => ({ id: c.id, deviceId: c.device_id, type: c.type, status: c.status })),
    };
    if (!outer) await this.queueBatch(batchId);
    return created;
  }

  /** Hands a committed batch to the push queue; heartbeats deliver it if this fails. */
  async queueBatch(batchId: string): Promise<void> {
    await this.queue
      .publish({ batchId })
      .catch((err: unknown) => this.logger.warn('could not queue a command batch for push; heartbeats will deliver it', { batchId, err }));
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
   * What a heartbeat answer carries: the device's pending commands, signed (those handed out for the
   * first time become dispatched), and the ids of commands it may hold that were cancelled.
   */
  async heartbeatOutbox(deviceId: string, now: Date): Promise<{ commands: Envelope[]; cancelled: string[] }> {
    const [commands, cancelled] = [await this.pendingEnvelopes(deviceId, now), await untoldCancels(this.db, deviceId, now, 100)];
    return { commands, cancelled };
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

  /** Open commands past expiry become expired (run every minute); so do approval requests past their hour. */
  async expire(): Promise<number> {
    const expired = await expireCommands(this.db, this.clock.now());
    await this.approvals?.expire();
    return expired;
  }
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
    cancelledAt: c.cancelled_at,
    deviceReport: c.device_report,
  };
}
