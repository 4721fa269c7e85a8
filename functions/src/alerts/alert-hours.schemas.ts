import { z } from 'zod';
import { isoDateTime, text, uuid } from '../core/schemas.js';
import { ALERT_KINDS } from './alert-kinds.js';
import { WEEKDAYS } from './alert-hours.js';

/** [startMinute, endMinute) of the local day; the checks that span ranges (end after start, overlaps) give their own codes. */
const minuteRange = z.tuple([z.number().int().min(0).max(1440), z.number().int().min(0).max(1440)]);
const dayRanges = z.array(minuteRange).max(24);

export const weeklySchema = z
  .object(
    Object.fromEntries(WEEKDAYS.map((d) => [d, dayRanges.optional()])) as Record<
      (typeof WEEKDAYS)[number],
      z.ZodOptional<typeof dayRanges>
    >,
  )
  .strict();

export const alertHoursBody = z
  .object({
    timeZone: text(64).describe('IANA time zone name, e.g. Europe/Berlin'),
    weekly: weeklySchema.describe('Per weekday, [startMinute, endMinute) ranges of the local day; a day left out is closed'),
  })
  .strict();
export type AlertHoursBody = z.output<typeof alertHoursBody>;

export const maintenanceWindowBody = z.object({ startsAt: isoDateTime, endsAt: isoDateTime, reason: text(500).optional() }).strict();
export type MaintenanceWindowBody = z.output<typeof maintenanceWindowBody>;

export const maintenanceWindowView = z.object({
  id: uuid,
  startsAt: isoDateTime,
  endsAt: isoDateTime,
  reason: z.string(),
});

export const alertHoursView = z.object({
  groupId: uuid,
  hours: z.object({ timeZone: z.string(), weekly: weeklySchema }).nullable().describe('null: expected around the clock'),
  windows: z.array(maintenanceWindowView).describe('Maintenance windows not yet over, soonest first'),
  quietNow: z.boolean().describe('Offline and app alerts are not raised now (outside the hours or inside a window)'),
  openSince: isoDateTime.nullable().describe('When the current open period began, if within the last 8 days'),
});

export const groupWindowParams = z.object({ id: uuid, windowId: uuid });

export const snoozeBody = z.object({ until: isoDateTime, reason: text(500).optional() }).strict();
export type SnoozeBody = z.output<typeof snoozeBody>;
export const snoozeView = z.object({
  deviceId: uuid,
  until: isoDateTime.nullable().describe('null: not snoozed'),
  reason: z.string().nullable(),
});

export const bulkAckBody = z
  .object({
    ids: z.array(uuid).min(1).max(1000).optional(),
    filter: z
      .object({ kind: z.enum(ALERT_KINDS).optional(), deviceId: uuid.optional(), groupId: uuid.optional() })
      .strict()
      .optional()
      .describe('Every open, unacknowledged alert matching it (an empty filter: all of them)'),
  })
  .strict();
export type BulkAckBody = z.output<typeof bulkAckBody>;
export const bulkAckResult = z.object({ acknowledged: z.number().int().describe('Alerts acknowledged by this call') });
