import { z } from 'zod';
import { cursorQuery, isoDateTime, limitQuery, page, uuid } from '../http/schemas.js';
import { ALERT_KINDS } from './alert-settings.js';

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
  results: z.array(z.object({ channel: z.enum(['discord', 'email']), ok: z.boolean(), error: z.string().optional() })),
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
