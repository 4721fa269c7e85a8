import { z } from 'zod';
import { SCOPES } from '../core/route.js';
import { isoDateTime, nonEmptyText, uuid } from '../core/schemas.js';

export const createApiTokenBody = z.object({
  name: nonEmptyText(64).describe('Who uses it, e.g. "android-release-pipeline"; audit entries carry it'),
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
  expiresInSec: z
    .number()
    .int()
    .min(60)
    .max(366 * 86_400)
    .optional()
    .describe('Default 90 days; at most a year'),
});
export type CreateApiTokenInput = z.output<typeof createApiTokenBody>;

export const apiTokenView = z.object({
  id: uuid,
  name: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  status: z.enum(['active', 'expired', 'revoked']),
  createdBy: uuid.nullable(),
  createdAt: isoDateTime,
  expiresAt: isoDateTime,
  revokedAt: isoDateTime.nullable(),
  lastUsedAt: isoDateTime.nullable(),
});
export const createdApiToken = apiTokenView.extend({ token: z.string().describe('The secret, shown this once: only its hash is kept') });
export const apiTokenList = z.object({ items: z.array(apiTokenView) });
