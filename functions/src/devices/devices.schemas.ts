import { z } from 'zod';
import { groupName, tagName } from '../core/schemas.js';
import { count, cursorQuery, isoDateTime, limitQuery, nonEmptyText, page, text, uuid } from '../core/schemas.js';

export const sessionBody = z.object({
  deviceId: uuid,
  deviceSecret: text(200).min(1),
});

export const sessionResponse = z.object({
  accessToken: z.string().describe('Bearer token for the device routes'),
  expiresAt: isoDateTime,
});

const packageName = text(255).regex(/^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)*$/, 'must be an Android package name');

const eventValue = z.union([text(1000), z.number(), z.boolean(), z.null()]);

export const deviceEvent = z.object({
  type: text(64).regex(/^[a-z][a-z0-9_.]*$/, 'lower-case letters, digits, _ and .'),
  at: isoDateTime,
  data: z
    .record(text(64), eventValue)
    .refine((d) => Object.keys(d).length <= 20, 'at most 20 keys')
    .optional(),
});

export const heartbeatBody = z
  .object({
    sentAt: isoDateTime.describe('Device clock when the heartbeat was taken'),
    battery: z.object({
      level: z.number().int().min(0).max(100),
      charging: z.boolean(),
      temperatureC: z.number().min(-50).max(150).optional(),
    }),
    memory: z.object({ availBytes: count, totalBytes: count }).refine((m) => m.availBytes <= m.totalBytes, 'availBytes exceeds totalBytes'),
    storage: z
      .object({ freeBytes: count, totalBytes: count })
      .refine((s) => s.freeBytes <= s.totalBytes, 'freeBytes exceeds totalBytes')
      .optional(),
    network: z
      .object({
        type: text(32),
        rssi: z.number().int().min(-200).max(0).optional(),
        ip: text(64).optional(),
      })
      .optional(),
    app: z.object({
      package: packageName,
      running: z.boolean(),
      foreground: z.boolean(),
      versionName: text(100).optional(),
      versionCode: count.optional(),
      lastFrameAgeMs: z.number().int().min(0).max(2_147_483_647).optional(),
    }),
    uptimeSec: count,
    agentVersion: nonEmptyText(50),
    agentVersionCode: count
      .optional()
      .describe("v2: the agent's own versionCode; what a staged rollout of the agent package counts (docs/rollouts.md)"),
    fcmToken: text(4096).optional(),
    events: z.array(deviceEvent).max(50).optional(),
    bootId: text(64).min(1).optional().describe('Random per agent boot; with seq, lets a retried heartbeat be stored once'),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('Counts heartbeats within a bootId, from 0'),
    policy: z
      .object({
        hash: z
          .string()
          .regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256')
          .nullable(),
      })
      .strict()
      .optional()
      .describe('v2: the hash of the policy the device has applied (null: none); informational, the report is what counts'),
  })
  .refine((hb) => (hb.bootId === undefined) === (hb.seq === undefined), 'bootId and seq go together');
export type HeartbeatInput = z.output<typeof heartbeatBody>;

export const heartbeatResponse = z.object({
  protocolVersion: z.number().int().describe('2: the answer carries `policy` (docs/protocol.md#policies)'),
  serverTime: isoDateTime,
  nextHeartbeatSec: z.number().int(),
  commands: z.array(z.record(z.string(), z.string())).describe('Signed command envelopes due for this device'),
  cancelled: z
    .array(z.string())
    .describe('Ids of commands this device may hold that were cancelled: never run them; report "cancelled" on each'),
  policy: z
    .object({ version: z.number().int(), hash: z.string() })
    .nullable()
    .describe("The device's effective policy; when the hash differs from what it applied, GET /api/v1/device/policy. null: none applies"),
});

export const DEVICE_STATUSES = ['online', 'offline', 'retiring', 'retired'] as const;

export const listDevicesQuery = z.object({
  status: z
    .enum([...DEVICE_STATUSES, 'any'])
    .optional()
    .describe('Default: every device but the retired ones; any: all of them'),
  duplicates: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only devices whose serial another device (not retired) shares'),
  q: text(100).optional().describe('Matches name, model, manufacturer, serial or the device id'),
  groupId: uuid.optional(),
  tag: text(64).optional(),
  sort: z.enum(['lastSeen', '-lastSeen']).default('-lastSeen').describe('-lastSeen: most recently seen first'),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});
export type ListDevicesQuery = z.output<typeof listDevicesQuery>;

const nullableTime = isoDateTime.nullable();

export const deviceView = z.object({
  id: uuid,
  name: z.string().nullable(),
  displayName: z.string().describe('The name, or model and serial until renamed'),
  status: z.enum(DEVICE_STATUSES).describe('online/offline for active devices; retiring (a WIPE is on its way) or retired'),
  model: z.string(),
  manufacturer: z.string(),
  serial: z.string().nullable(),
  androidVersion: z.string(),
  sdkInt: z.number().int(),
  agentVersion: z.string(),
  agentVersionCode: z.number().nullable().describe("The agent's versionCode as last reported; null: its agent does not report it"),
  group: z.object({ id: uuid, name: z.string() }).nullable(),
  tags: z.array(z.string()),
  enrolledAt: isoDateTime,
  lastSeenAt: isoDateTime,
  stateSentAt: nullableTime,
  battery: z.object({ level: z.number(), charging: z.boolean(), temperatureC: z.number().nullable() }).nullable(),
  memory: z.object({ availBytes: z.number(), totalBytes: z.number() }).nullable(),
  storage: z.object({ freeBytes: z.number(), totalBytes: z.number() }).nullable(),
  network: z.object({ type: z.string(), rssi: z.number().nullable(), ip: z.string().nullable() }).nullable(),
  app: z
    .object({
      package: z.string(),
      running: z.boolean(),
      foreground: z.boolean(),
      versionName: z.string().nullable(),
      versionCode: z.number().nullable(),
      lastFrameAgeMs: z.number().nullable(),
    })
    .nullable(),
  uptimeSec: z.number().nullable(),
  hasPushToken: z.boolean(),
  retiredAt: nullableTime,
  replacedBy: uuid.nullable().describe('The device that took over its name, group and tags'),
  duplicateSerialOf: z.array(uuid).describe('Other devices, not retired, enrolled with the same serial: replace or retire one'),
});

export const devicePage = page(deviceView);

export const telemetryQuery = z
  .object({
    from: isoDateTime.optional().describe('Default: 24 hours before `to`'),
    to: isoDateTime.optional().describe('Default: now (both ends are inclusive)'),
    limit: limitQuery(5000, 20_000),
    resolution: z
      .enum(['auto', 'raw', 'hour'])
      .default('auto')
      .describe(
        'raw: every heartbeat; hour: hourly rollups (min/avg/max); auto: hourly for ranges over 48 hours or older than the raw retention',
      ),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), 'from must be before to');

export const telemetryPoint = z.object({
  receivedAt: isoDateTime,
  sentAt: isoDateTime,
  batteryLevel: z.number(),
  charging: z.boolean(),
  temperatureC: z.number().nullable(),
  memAvailBytes: z.number(),
  memTotalBytes: z.number(),
  storageFreeBytes: z.number().nullable(),
  storageTotalBytes: z.number().nullable(),
  appRunning: z.boolean(),
  appForeground: z.boolean(),
  lastFrameAgeMs: z.number().nullable(),
  rssi: z.number().nullable(),
  uptimeSec: z.number(),
  // Hourly points only: the point's plain fields hold the hour's average (battery, memory, storage),
  // its majority (charging, app up) and its highest uptime; these add the spread.
  samples: z.number().int().optional().describe('Hourly: heartbeats in the hour'),
  batteryMin: z.number().optional(),
  batteryMax: z.number().optional(),
  batteryAvg: z.number().optional(),
  memAvailMinBytes: z.number().optional(),
  memAvailMaxBytes: z.number().optional(),
  storageFreeMinBytes: z.number().nullable().optional(),
  storageFreeMaxBytes: z.number().nullable().optional(),
  chargingRatio: z.number().optional().describe('Hourly: share of heartbeats charging'),
  appUpRatio: z.number().optional().describe('Hourly: share of heartbeats with the kiosk app running in the foreground'),
});

export const telemetryResponse = z.object({
  deviceId: uuid,
  from: isoDateTime,
  to: isoDateTime,
  resolution: z.enum(['raw', 'hour']).describe('raw: one point per heartbeat; hour: one point per hour (receivedAt = the hour)'),
  points: z.array(telemetryPoint).describe('Oldest first'),
  truncated: z.boolean().describe('True when the range held more points than `limit`; the newest were left out'),
});

export const updateDeviceBody = z
  .object({
    name: nonEmptyText(100).nullable().optional().describe('null: back to model and serial'),
    group: groupName.nullable().optional().describe('A group name (created if new); null: no group'),
    tags: z.array(tagName).max(20).optional().describe('Replaces the tags'),
  })
  .refine((b) => b.name !== undefined || b.group !== undefined || b.tags !== undefined, 'name, group or tags');
export type UpdateDeviceInput = z.output<typeof updateDeviceBody>;

export const groupList = z.object({
  items: z.array(z.object({ id: uuid, name: z.string(), deviceCount: z.number().int(), createdAt: isoDateTime })),
});
