import { z } from 'zod';
import { cursorQuery, isoDateTime, limitQuery, page, text, uuid } from '../core/schemas.js';
import { groupName, tagName } from '../core/schemas.js';

export const COMMAND_TYPES = [
  'REBOOT',
  'RELAUNCH_APP',
  'PING',
  'LOCK',
  'CLEAR_APP_DATA',
  'INSTALL_APK',
  'SET_CONFIG',
  'WIPE',
  'RELEASE_OWNER',
] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];
/**
 * The types that end the server's hold on a device and cannot be undone from it: WIPE (factory reset) and
 * RELEASE_OWNER (the agent gives up Device Owner; the device keeps its data). Admins only, never API
 * tokens; beyond one device a second admin approves (approvals.service.ts).
 */
export const IRREVERSIBLE: ReadonlySet<CommandType> = new Set(['WIPE', 'RELEASE_OWNER']);
export type IrreversibleType = 'WIPE' | 'RELEASE_OWNER';
export const isIrreversible = (type: CommandType): type is IrreversibleType => IRREVERSIBLE.has(type);
/** The one type that needs no confirmation however many devices it reaches: it only asks for a heartbeat. */
export const UNCONFIRMED: ReadonlySet<CommandType> = new Set(['PING']);

export const COMMAND_STATUSES = ['queued', 'dispatched', 'delivered', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const OPEN_STATUSES = ['queued', 'dispatched', 'delivered'] as const satisfies readonly CommandStatus[];
/** What a cancel can stop: the device has not said it started. */
export const CANCELLABLE = ['queued', 'dispatched'] as const satisfies readonly CommandStatus[];

const packageName = text(255).regex(/^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/, 'must be an Android package name');
const none = z.object({}).strict();

/** The params each command type takes; anything else is refused. */
export const PARAMS: Record<CommandType, z.ZodType> = {
  REBOOT: none,
  RELAUNCH_APP: none,
  PING: none,
  LOCK: none,
  CLEAR_APP_DATA: none,
  WIPE: none,
  RELEASE_OWNER: none,
  // INSTALL_APK names a catalog release; the server fills in what the agent checks (commands.service.ts):
  // {releaseId, packageName, versionCode, versionName, url, sha256, signerSha256, allowDowngrade?}.
  INSTALL_APK: z
    .object({
      releaseId: uuid.describe('A release of the app catalog (GET /api/v1/admin/releases)'),
      allowDowngrade: z.boolean().optional().describe('Let the agent install a lower versionCode than the device has'),
    })
    .strict(),
  SET_CONFIG: z
    .object({
      heartbeatIntervalSec: z.number().int().min(5).max(86_400).optional(),
      kioskPackage: packageName.optional(),
    })
    .strict()
    .refine((p) => Object.keys(p).length > 0, 'name at least one setting'),
};

export const createCommandBody = z
  .object({
    type: z.enum(COMMAND_TYPES),
    params: z.record(z.string(), z.unknown()).optional(),
    deviceIds: z.array(uuid).min(1).max(1000).optional(),
    group: groupName.optional(),
    tag: tagName.optional(),
    all: z.literal(true).optional(),
    expiresInSec: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .optional()
      .describe('Default 24 hours'),
    notBefore: isoDateTime.optional().describe('Not delivered before this time'),
    confirm: z
      .object({ type: z.enum(COMMAND_TYPES), count: z.number().int().min(0).max(10_000_000) })
      .strict()
      .optional()
      .describe(
        'The type and the number of devices the server counted (from a 428 confirmation_required); required for every type but PING sent to more than one device, a group, a tag or all',
      ),
  })
  .refine((b) => [b.deviceIds, b.group, b.tag, b.all].filter((x) => x !== undefined).length === 1, {
    message: 'name exactly one target: deviceIds, group, tag or all',
  });
export type CreateCommandInput = z.output<typeof createCommandBody>;

export const commandSummary = z.object({ id: uuid, deviceId: uuid, type: z.enum(COMMAND_TYPES), status: z.enum(COMMAND_STATUSES) });

export const createdCommands = z.object({
  batchId: uuid,
  count: z.number().int(),
  commands: z.array(commandSummary),
});

export const approvalView = z.object({
  id: uuid,
  type: z.enum(COMMAND_TYPES),
  params: z.record(z.string(), z.unknown()),
  target: z.string().describe('What the request reaches, e.g. "group lobby"'),
  count: z.number().int(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired']),
  requestedBy: z.object({ id: uuid, email: z.string() }),
  requestedAt: isoDateTime,
  expiresAt: isoDateTime,
  decidedBy: z.object({ id: uuid.nullable(), email: z.string() }).nullable(),
  decidedAt: isoDateTime.nullable(),
  reason: z.string().nullable(),
  batchId: uuid.nullable(),
});
export const pendingApproval = z.object({ approval: approvalView });
export const approvalList = z.object({ items: z.array(approvalView) });
export const listApprovalsQuery = z.object({ status: z.enum(['pending', 'approved', 'rejected', 'expired']).optional() });
export const rejectBody = z.object({ reason: text(500).optional() });
export const cancelledCommands = z.object({ cancelled: z.number().int(), ids: z.array(uuid) });
export const batchParams = z.object({ batchId: uuid });

export const commandView = z.object({
  id: uuid,
  batchId: uuid,
  deviceId: uuid,
  type: z.enum(COMMAND_TYPES),
  params: z.record(z.string(), z.unknown()),
  status: z.enum(COMMAND_STATUSES),
  createdAt: isoDateTime,
  createdBy: z.object({ type: z.enum(['admin', 'system', 'token']), id: z.string().nullable() }),
  notBefore: isoDateTime,
  expiresAt: isoDateTime,
  dispatchedAt: isoDateTime.nullable(),
  deliveredAt: isoDateTime.nullable(),
  completedAt: isoDateTime.nullable(),
  output: z.string().nullable(),
  error: z.string().nullable(),
  cancelledAt: isoDateTime.nullable(),
  deviceReport: z
    .string()
    .nullable()
    .describe('What the device reported after the command was cancelled (kept; the status stays cancelled)'),
});

export const commandDetail = commandView.extend({
  dispatches: z.array(
    z.object({
      at: isoDateTime,
      channel: z.enum(['fcm', 'heartbeat']),
      attempt: z.number().int(),
      outcome: z.string(),
      messageId: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
});

export const listCommandsQuery = z.object({
  deviceId: uuid.optional(),
  batchId: uuid.optional(),
  status: z.enum(COMMAND_STATUSES).optional(),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});
export type ListCommandsQuery = z.output<typeof listCommandsQuery>;

export const commandPage = page(commandView);

export const resultBody = z.object({
  status: z.enum(['delivered', 'succeeded', 'failed', 'rejected', 'cancelled']),
  output: text(4000).optional(),
  error: text(2000).optional(),
});
export type ResultInput = z.output<typeof resultBody>;

export const resultResponse = z.object({ id: uuid, status: z.enum(COMMAND_STATUSES) });

/** A signed command as the device receives it (an FCM data message: every value a string). */
export const envelopeSchema = z.object({
  v: z.literal('1'),
  cid: z.string(),
  did: z.string(),
  type: z.string(),
  params: z.string(),
  iat: z.string(),
  exp: z.string(),
  sig: z.string(),
});
export type Envelope = z.output<typeof envelopeSchema>;
