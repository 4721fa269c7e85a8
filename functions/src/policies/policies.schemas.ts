import { z } from 'zod';
import { count, isoDateTime, limitQuery, text, uuid } from '../core/schemas.js';
import { envelopeSchema } from '../commands/index.js';
import { policyDocument } from './policy-document.js';

export { policyDocument };

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
const scope = z.enum(['fleet', 'group', 'device']);

export const groupParams = z.object({ groupId: uuid });
export const deviceParams = z.object({ deviceId: uuid });
export const versionParams = z.object({ version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export const policyView = z.object({
  scope,
  groupId: uuid.nullable(),
  deviceId: uuid.nullable(),
  version: z.number().int().nullable().describe('The latest version of this layer; null: never saved (or removed)'),
  document: policyDocument.nullable(),
  updatedAt: isoDateTime.nullable(),
  effective: z
    .object({ version: z.number().int(), hash: hash.nullable() })
    .optional()
    .describe('What devices of this layer get (a device override: computed for its group)'),
});

const diffEntry = z.object({
  path: z.string(),
  op: z.enum(['added', 'removed', 'changed']),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});

export const versionsQuery = z.object({
  scope: scope.optional(),
  groupId: uuid.optional(),
  deviceId: uuid.optional(),
  limit: limitQuery(50, 200),
});
export type VersionsQuery = z.output<typeof versionsQuery>;

export const versionList = z.object({
  items: z.array(
    z.object({
      version: z.number().int(),
      scope,
      groupId: uuid.nullable(),
      group: z.string().nullable(),
      deviceId: uuid.nullable(),
      changes: z.number().int(),
      createdAt: isoDateTime,
      createdBy: z.string(),
    }),
  ),
});

export const versionView = z.object({
  version: z.number().int(),
  scope,
  groupId: uuid.nullable(),
  group: z.string().nullable(),
  deviceId: uuid.nullable(),
  document: z.record(z.string(), z.unknown()).nullable().describe('null: the device override was removed'),
  previousVersion: z.number().int().nullable(),
  previous: z.record(z.string(), z.unknown()).nullable(),
  diff: z.array(diffEntry),
  createdAt: isoDateTime,
  createdBy: z.string(),
});

export const previewBody = z
  .object({
    scope,
    groupId: uuid.optional(),
    deviceId: uuid.optional(),
    document: policyDocument.nullable().describe('The document to save; null: remove the device override'),
  })
  .strict()
  .refine((b) => (b.scope === 'group') === (b.groupId !== undefined), 'groupId goes with scope "group" (and only with it)')
  .refine((b) => (b.scope === 'device') === (b.deviceId !== undefined), 'deviceId goes with scope "device" (and only with it)')
  .refine((b) => b.document !== null || b.scope === 'device', 'only a device override can be removed (document null)');
export type PreviewBody = z.output<typeof previewBody>;

export const previewResponse = z.object({
  count: z.number().int().describe('Devices whose effective policy would change'),
  devices: z.array(z.string()).describe('The first of them by name'),
});

export const REPORT_STATUSES = ['applied', 'failed', 'unsupported'] as const;

export const reportBody = z
  .object({
    hash: hash.describe('The hash of the document the device applied'),
    appliedAt: isoDateTime.optional(),
    items: z
      .array(
        z
          .object({
            item: z
              .string()
              .regex(
                /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_.:-]+)?$/,
                'a policy field, optionally with a detail: userRestrictions.no_safe_boot',
              )
              .max(150),
            status: z.enum(REPORT_STATUSES),
            reason: text(500).optional().describe('failed: why; unsupported: e.g. "needs API 28"'),
          })
          .strict(),
      )
      .max(200),
  })
  .strict();
export type ReportBody = z.output<typeof reportBody>;

export const COMPLIANCE = ['compliant', 'pending', 'failed'] as const;
const complianceState = z.enum(COMPLIANCE);

export const reportResponse = z.object({ state: complianceState, hash: hash.nullable(), version: z.number().int() });

export const devicePolicyResponse = z.object({
  protocolVersion: z.number().int(),
  version: z.number().int().describe('The effective version: the highest version of the layers merged; 0: no policy'),
  hash: hash.nullable().describe('SHA-256 of the envelope params (the canonical JSON of the document); null: no policy'),
  envelope: envelopeSchema.nullable().describe('type "POLICY", cid = hash, params = the document, signed like a command'),
});

const reportItem = z.object({ item: z.string(), status: z.enum(REPORT_STATUSES), reason: z.string().optional() });

export const deviceCompliance = z.object({
  deviceId: uuid,
  state: complianceState,
  effective: z.object({ version: z.number().int(), hash: hash.nullable() }),
  reported: z.object({ hash, appliedAt: isoDateTime.nullable(), receivedAt: isoDateTime, current: z.boolean() }).nullable(),
  items: z.array(reportItem),
  nonCompliant: z.array(reportItem).describe('Items of the latest report not applied, with their reasons'),
});

export const complianceQuery = z.object({
  state: complianceState.optional(),
  groupId: uuid.optional(),
  cursor: uuid.optional().describe('The last deviceId of the previous page'),
  limit: limitQuery(100, 500),
});
export type ComplianceQuery = z.output<typeof complianceQuery>;

export const compliancePage = z.object({
  items: z.array(
    z.object({
      deviceId: uuid,
      displayName: z.string(),
      group: z.object({ id: uuid, name: z.string() }).nullable(),
      state: complianceState,
      effectiveHash: hash.nullable(),
      reportedHash: hash.nullable(),
      failedItems: count,
      reportedAt: isoDateTime.nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

const counts = z.object({ compliant: count, pending: count, failed: count });
export const complianceSummary = z.object({
  total: counts,
  groups: z.array(counts.extend({ groupId: uuid.nullable(), group: z.string().nullable() })),
});
