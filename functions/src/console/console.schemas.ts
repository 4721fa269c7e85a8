import { z } from 'zod';
import { cursorQuery, isoDateTime, limitQuery, page, uuid } from '../http/schemas.js';

export const LIVE_SOURCES = ['sse', 'firestore'] as const;
export type LiveSource = (typeof LIVE_SOURCES)[number];

export const consoleConfig = z.object({
  liveSource: z.enum(LIVE_SOURCES).describe('sse: GET /api/v1/admin/stream; firestore: the mirror documents with onSnapshot'),
  firebase: z
    .object({ apiKey: z.string(), authDomain: z.string(), projectId: z.string(), appId: z.string() })
    .optional()
    .describe('The Firebase web app the console signs in to with the login firebaseToken (Firebase deployments)'),
});
export type ConsoleConfig = z.output<typeof consoleConfig>;

export const fleetQuery = z.object({
  seenSince: isoDateTime.optional().describe('Only devices whose last contact is at or after this time'),
  cursor: cursorQuery,
  limit: limitQuery(5000, 10_000),
});
export type FleetQuery = z.output<typeof fleetQuery>;

/** The live mirror's device document (platform/mirror.ts DeviceDoc), so a snapshot and live updates merge as one. */
export const deviceDoc = z.object({
  id: uuid,
  name: z.string(),
  model: z.string(),
  serial: z.string().nullable(),
  group: z.string().nullable(),
  tags: z.array(z.string()),
  status: z.enum(['online', 'offline']),
  lastSeenAt: isoDateTime,
  battery: z.number().nullable().describe('Whole 5% steps'),
  charging: z.boolean().nullable(),
  app: z.enum(['running', 'down', 'frozen', 'unknown']),
  openAlerts: z.array(z.string()),
  updatedAt: isoDateTime,
});

export const fleetPage = page(deviceDoc);
