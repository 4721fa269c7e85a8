import { z } from 'zod';
import { cursorQuery, isoDateTime, limitQuery, page, uuid } from '../core/schemas.js';

export const fleetQuery = z.object({
  seenSince: isoDateTime.optional().describe('Only devices whose last contact is at or after this time'),
  cursor: cursorQuery,
  limit: limitQuery(5000, 10_000),
});
export type FleetQuery = z.output<typeof fleetQuery>;

/** The live mirror's device document (ports/mirror.ts DeviceDoc), so a snapshot and live updates merge as one. */
export const deviceDoc = z.object({
  id: uuid,
  name: z.string(),
  model: z.string(),
  serial: z.string().nullable(),
  group: z.string().nullable(),
  tags: z.array(z.string()),
  status: z.enum(['online', 'offline', 'retiring', 'retired']).describe('retiring: a WIPE is on its way; retired: kept for its history'),
  lastSeenAt: isoDateTime,
  battery: z.number().nullable().describe('Whole 5% steps'),
  charging: z.boolean().nullable(),
  app: z.enum(['running', 'down', 'frozen', 'unknown']),
  appVersionName: z.string().nullable().describe("The kiosk app's versionName from the last heartbeat"),
  appVersionCode: z.number().int().nullable(),
  agentVersion: z.string(),
  androidVersion: z.string(),
  openAlerts: z.array(z.string()),
  updatedAt: isoDateTime,
});

export const fleetPage = page(deviceDoc);
