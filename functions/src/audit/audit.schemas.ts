import { z } from 'zod';
import { cursorQuery, limitQuery, page, text, uuid } from '../core/schemas.js';
import { AUDIT_ACTIONS } from './audit.types.js';

export const auditQuery = z.object({
  actorId: text(64).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  deviceId: uuid.optional(),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});

export const auditEntry = z.object({
  id: z.number(),
  at: z.iso.datetime(),
  actor: z.object({
    type: z.enum(['admin', 'device', 'system', 'token']),
    id: z.string().nullable(),
    name: z.string().describe('The name recorded with the entry (a copy: it does not follow renames)'),
    email: z.string().nullable().describe("An admin actor's current email (null for other actors or a deleted admin)"),
  }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  deviceId: z.string().nullable(),
  deviceName: z
    .string()
    .nullable()
    .describe("The device's current display name; once deleted, the name its deletion recorded, else its id. Null: no device"),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const auditPage = page(auditEntry);
