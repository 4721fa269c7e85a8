import { z } from 'zod';
import { FAILURE_CLASSES } from '../ports/notifier.js';
import { cursorQuery, isoDateTime, limitQuery, page, uuid } from '../core/schemas.js';
import { ALERT_KINDS } from './alert-kinds.js';

export const listAlertsQuery = z.object({
  status: z.enum(['open', 'resolved']).optional(),
  kind: z.enum(ALERT_KINDS).optional(),
  deviceId: uuid.optional(),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});
export type ListAlertsQuery = z.output<typeof listAlertsQuery>;

export const remediationStep = z.object({
  step: z.number().int(),
  action: z.enum(['RELAUNCH_APP', 'CLEAR_APP_DATA', 'REBOOT', 'ESCALATE']),
  commandId: uuid.nullable(),
  commandStatus: z.string().nullable(),
  takenAt: isoDateTime,
  outcome: z.string().nullable(),
});

export const alertView = z.object({
  id: uuid,
  kind: z.enum(ALERT_KINDS),
  status: z.enum(['open', 'resolved']),
  device: z.object({ id: uuid, name: z.string(), group: z.string().nullable() }),
  conditionSince: isoDateTime,
  openedAt: isoDateTime,
  resolvedAt: isoDateTime.nullable(),
  acknowledgedAt: isoDateTime.nullable(),
  acknowledgedBy: z.string().nullable().describe('E-mail of the admin who acknowledged it'),
  details: z.record(z.string(), z.unknown()),
  remediation: z.array(remediationStep).describe('Self-healing steps, in order'),
});

export const alertPage = page(alertView);

export const testNotificationBody = z.object({ channel: z.enum(['discord', 'email']).optional() });
export const testNotificationResult = z.object({
  results: z.array(
    z.object({
      channel: z.enum(['discord', 'email']),
      ok: z.boolean(),
      /** What kind of failure: never the remote's own words (see ports/notifier.ts). */
      failure: z.enum(FAILURE_CLASSES).optional(),
      error: z.string().optional(),
    }),
  ),
});

export const listNotificationsQuery = z.object({
  channel: z.enum(['discord', 'email']).optional(),
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'dropped']).optional(),
  cursor: cursorQuery,
  limit: limitQuery(100, 500),
});

export const notificationView = z.object({
  id: z.number().int(),
  channel: z.enum(['discord', 'email']),
  type: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  createdAt: isoDateTime,
  sentAt: isoDateTime.nullable(),
  nextAttemptAt: isoDateTime,
  lastError: z.string().nullable(),
  title: z.string(),
});
export const notificationPage = page(notificationView);

/**
 * Alert settings: thresholds, which kinds are on and self-heal, and the channels. They live in the
 * database (one row) so an admin changes them without a redeploy; until then the environment's
 * defaults apply. Channel URLs carry credentials, so they are stored sealed and never shown back.
 */
const kindSettings = z.object({ enabled: z.boolean(), selfHeal: z.boolean() });
const email = z
  .string()
  .regex(/^[^@\s<>]+@[^@\s<>]+$/, 'an e-mail address')
  .max(254);

export const settingsSchema = z.object({
  thresholds: z.object({
    offlineAfterSec: z
      .number()
      .int()
      .min(30)
      .max(7 * 86_400),
    lowBatteryPct: z.number().int().min(1).max(50),
    frameAgeMs: z.number().int().min(1000).max(3_600_000),
    holdSec: z.number().int().min(0).max(86_400),
    cooldownSec: z.number().int().min(0).max(86_400),
    digestWindowSec: z.number().int().min(0).max(3600),
  }),
  kinds: z.object({ offline: kindSettings, low_battery: kindSettings, app_down: kindSettings, app_frozen: kindSettings }),
  selfHealing: z.object({
    dailyBudget: z.number().int().min(0).max(100),
    stepTimeoutSec: z.number().int().min(60).max(86_400),
  }),
  channels: z.object({
    maxMessagesPerMinute: z.number().int().min(1).max(600),
    discord: z.object({ enabled: z.boolean(), webhookUrl: z.string().nullable(), kinds: z.array(z.enum(ALERT_KINDS)) }),
    email: z.object({
      enabled: z.boolean(),
      smtpUrl: z.string().nullable(),
      from: z.string().min(3).max(200),
      to: z.array(email).max(50),
      kinds: z.array(z.enum(ALERT_KINDS)),
    }),
  }),
});
/** The settings with channel URLs in clear: only for the sweep and the delivery, never for the API. */
export type AlertSettings = z.output<typeof settingsSchema>;

const shape = settingsSchema.shape;
const kindPatch = kindSettings.partial().strict().optional();
const channels = shape.channels.shape;
/** PUT body: any part of the settings; a channel URL given as a string is set, null clears it, absent keeps it. */
export const settingsPatch = z
  .object({
    thresholds: shape.thresholds.partial().strict().optional(),
    kinds: z
      .object({
        offline: kindPatch,
        low_battery: kindPatch,
        app_down: kindPatch,
        app_frozen: kindPatch,
      })
      .strict()
      .optional(),
    selfHealing: shape.selfHealing.partial().strict().optional(),
    channels: z
      .object({
        maxMessagesPerMinute: channels.maxMessagesPerMinute.optional(),
        discord: channels.discord
          .extend({
            webhookUrl: z
              .url({ protocol: /^https?$/ })
              .max(2048)
              .nullable(),
          })
          .partial()
          .strict()
          .optional(),
        email: channels.email
          .extend({
            smtpUrl: z
              .url({ protocol: /^smtps?$/ })
              .max(2048)
              .nullable(),
          })
          .partial()
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type SettingsPatch = z.output<typeof settingsPatch>;
