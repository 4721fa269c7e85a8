import { z } from 'zod';
import { cursorQuery, groupName, isoDateTime, limitQuery, nonEmptyText, page, tagName, text } from '../core/schemas.js';

export const TOKEN_PREFIX = 'mdmet_';
export const TOKEN_PATTERN = /^mdmet_[A-Za-z0-9_-]{43}$/;

export const createTokenBody = z.object({
  label: text(100).optional(),
  expiresInSec: z
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .optional(),
  group: groupName.optional(),
  tags: z.array(tagName).max(20).optional().describe('Tags given to every device it enrolls'),
  maxUses: z.number().int().min(1).max(100_000).optional().describe('How many devices it may enroll (default 1)'),
});

export const TOKEN_STATUSES = ['active', 'used', 'revoked', 'expired'] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];

export const tokenView = z.object({
  id: z.uuid(),
  label: z.string(),
  group: z.string().nullable(),
  tags: z.array(z.string()),
  status: z.enum(TOKEN_STATUSES),
  createdAt: isoDateTime,
  createdBy: z.string().nullable().describe('E-mail of the admin who created it'),
  expiresAt: isoDateTime,
  usedAt: isoDateTime.nullable().describe('When its last use was taken'),
  uses: z.number().int(),
  maxUses: z.number().int(),
  deviceId: z.uuid().nullable().describe('The device enrolled with a single-use token'),
  revokedAt: isoDateTime.nullable(),
});

export const createdToken = tokenView.extend({
  token: z.string().describe('The enrollment token. Shown once: only its hash is stored.'),
  adbScript: z.object({ sh: z.url(), ps1: z.url() }).describe('Where to download the ADB enrollment scripts'),
});

export const listTokensQuery = z.object({
  status: z.enum(TOKEN_STATUSES).optional(),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});

export const tokenPage = page(tokenView);

export const adbScriptQuery = z.object({ shell: z.enum(['sh', 'ps1']).default('sh') });

export const enrollBody = z.object({
  enrollmentToken: text(200).min(1),
  device: z.object({
    model: nonEmptyText(100),
    manufacturer: nonEmptyText(100),
    androidVersion: nonEmptyText(32),
    sdkInt: z.number().int().min(1).max(1000),
    serial: text(100).optional(),
    agentVersion: nonEmptyText(50),
    agentVersionCode: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe("The agent's own versionCode (v2)"),
  }),
  fcmToken: text(4096).optional(),
});

export const enrollResponse = z.object({
  deviceId: z.uuid(),
  deviceSecret: z.string().describe('256-bit secret for opening sessions; stored on the server only as a bcrypt hash'),
  hmacKey: z.string().describe("32-byte key (base64) that signs this device's commands"),
  heartbeatIntervalSec: z.number().int(),
});

export type CreateTokenInput = z.output<typeof createTokenBody>;
export type EnrollInput = z.output<typeof enrollBody>;
