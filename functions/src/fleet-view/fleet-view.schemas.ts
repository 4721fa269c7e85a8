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

export const HEALTH_RANGES = { '24h': 24, '7d': 168 } as const;
export const fleetHealthQuery = z.object({
  range: z.enum(['24h', '7d']).default('24h').describe('The last 24 hours or 7 days, in whole hours'),
});
export type FleetHealthQuery = z.output<typeof fleetHealthQuery>;

export const fleetHealth = z.object({
  range: z.enum(['24h', '7d']),
  from: isoDateTime.describe('The first hour of the range'),
  to: isoDateTime.describe('The end of the last hour shown: the current hour, or earlier when the rollups have not caught up'),
  hours: z
    .array(
      z.object({
        hour: isoDateTime,
        online: z.number().int().describe('Devices that sent a heartbeat in the hour'),
        offline: z.number().int().describe('Devices of the fleet (enrolled, not retired) that sent none'),
        alerting: z.number().int().describe('Devices with an alert open during the hour (online or offline)'),
      }),
    )
    .describe('Oldest first; only hours the hourly rollups cover'),
});
