import { z } from 'zod';
import { count, cursorQuery, isoDateTime, limitQuery, page, queryFlag, text, uuid } from '../core/schemas.js';

export const fleetQuery = z.object({
  seenSince: isoDateTime.optional().describe('Only devices whose last contact is at or after this time'),
  cursor: cursorQuery,
  limit: limitQuery(5000, 10_000),
  ifSmall: queryFlag
    .optional()
    .describe(
      'On the first page: the page only if the fleet has at most serverQueryAbove devices; above it no page is read (items empty, nextCursor null), only fleetSize, and the console queries the server (GET /admin/fleet/query)',
    ),
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

export const fleetPage = page(deviceDoc).extend({
  fleetSize: count
    .optional()
    .describe(
      "On the first page: every device, whatever its lifecycle. Exact up to serverQueryAbove; above it, the last status-card count (at most a minute old) or PostgreSQL's estimate, never below serverQueryAbove + 1",
    ),
  serverQueryAbove: count
    .optional()
    .describe('On the first page: above this many devices the console filters, sorts and pages on the server (GET /admin/fleet/query)'),
});
export const fleetQueryPage = page(deviceDoc);

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

const filterText = text(100);
/** The fleet view's filters (web/src/lib/fleet-query.ts), for the server mode of large fleets. */
export const fleetFilterQuery = z.object({
  q: filterText.optional().describe('A prefix of the name or the serial, any case'),
  status: z.enum(['', 'online', 'offline', 'alerting', 'app_down', 'retired', 'duplicates']).default(''),
  group: filterText.optional(),
  tag: filterText.optional(),
  alert: z
    .string()
    .regex(/^[a-z_]{1,40}$/, 'an alert kind')
    .optional(),
  appVersion: filterText.optional().describe('The label the console shows: "2.3.0 (230)"'),
  agentVersion: filterText.optional(),
  androidVersion: filterText.optional(),
});
export type FleetFilterQuery = z.output<typeof fleetFilterQuery>;

export const fleetSortQuery = fleetFilterQuery.extend({
  sort: z
    .enum(['status', 'name', 'battery', 'app', 'lastSeen'])
    .default('status')
    .describe('status: alerting, offline, app down, the rest'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});
export type FleetSortQuery = z.output<typeof fleetSortQuery>;

export const fleetCounts = z.object({
  matched: count.describe('Devices the filter matches'),
  total: count.describe('Active devices'),
  online: count,
  offline: count,
  alerting: count,
  appDown: count,
  retired: count.describe('Retiring and retired devices, in none of the other counts'),
  asOf: isoDateTime.describe(
    'When the status cards were counted: one count (a pass over the fleet) serves every console of the server for 5 s, and one up to a minute old is answered at once while a new count runs. `matched` is that count too when the filter is a status card alone, else counted now',
  ),
});

const values = z.array(z.string());
export const fleetFacets = z.object({
  groups: values,
  tags: values,
  appVersions: values,
  agentVersions: values,
  androidVersions: values,
  asOf: isoDateTime.describe(
    'When the values were read: one read serves every console of the server for a minute (up to 10 min answered at once while a new read runs)',
  ),
});
