import { z } from 'zod';
import type { AuditService } from '../audit/audit.service.js';
import type { Config } from '../config/config.js';
import type { AdminActor } from '../http/route.js';
import type { Clock } from '../platform/clock.js';
import { decrypt, encrypt } from '../platform/crypto.js';
import type { Db } from '../platform/db/connect.js';
import { forgetLastSweep } from './sweep.js';

/**
 * Alert settings: thresholds, which kinds are on and self-heal, and the channels. They live in the
 * database (one row) so an admin changes them without a redeploy; until then the environment's
 * defaults apply. Channel URLs carry credentials, so they are stored sealed and never shown back.
 */
export const ALERT_KINDS = ['offline', 'low_battery', 'app_down', 'app_frozen'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const SELF_HEALING_KINDS: readonly AlertKind[] = ['app_down', 'app_frozen'];

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

/** What GET shows: everything but the channel URLs, which only say whether they are set. */
export function publicView(s: AlertSettings) {
  const { webhookUrl, ...discord } = s.channels.discord;
  const { smtpUrl, ...mail } = s.channels.email;
  return {
    ...s,
    channels: {
      ...s.channels,
      discord: { ...discord, webhookUrlSet: webhookUrl !== null },
      email: { ...mail, smtpUrlSet: smtpUrl !== null },
    },
  };
}

export function defaultSettings(config: Config): AlertSettings {
  const d = config.alertDefaults;
  return {
    thresholds: {
      offlineAfterSec: config.offlineAfterSec,
      lowBatteryPct: d.lowBatteryPct,
      frameAgeMs: d.frameAgeMs,
      holdSec: d.holdSec,
      cooldownSec: d.cooldownSec,
      digestWindowSec: d.digestWindowSec,
    },
    kinds: {
      offline: { enabled: true, selfHeal: false },
      low_battery: { enabled: true, selfHeal: false },
      app_down: { enabled: true, selfHeal: true },
      app_frozen: { enabled: true, selfHeal: true },
    },
    selfHealing: { dailyBudget: d.dailyBudget, stepTimeoutSec: d.stepTimeoutSec },
    channels: {
      maxMessagesPerMinute: d.maxMessagesPerMinute,
      discord: { enabled: d.discordWebhookUrl !== undefined, webhookUrl: d.discordWebhookUrl ?? null, kinds: [...ALERT_KINDS] },
      email: {
        enabled: d.smtpUrl !== undefined && d.emailTo.length > 0,
        smtpUrl: d.smtpUrl ?? null,
        from: d.emailFrom,
        to: d.emailTo,
        kinds: [...ALERT_KINDS],
      },
    },
  };
}

const CACHE_MS = 5000;

export class AlertSettingsService {
  #cached: { at: number; value: AlertSettings } | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly defaults: AlertSettings,
    private readonly encryptionKey: Buffer,
  ) {}

  /** The settings in force (cached for a few seconds: the sweep and the device list read them often). */
  async current(): Promise<AlertSettings> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < CACHE_MS) return this.#cached.value;
    const row = await this.db.selectFrom('alert_settings').select('settings').where('id', '=', 1).executeTakeFirst();
    const value = row ? this.#unseal(row.settings) : this.defaults;
    this.#cached = { at: now, value };
    return value;
  }

  async update(actor: AdminActor, patch: SettingsPatch, ip: string): Promise<AlertSettings> {
    const before = await this.current();
    const merged = settingsSchema.parse(merge(before, patch));
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('alert_settings')
        .values({ id: 1, settings: JSON.stringify(this.#seal(merged)), updated_at: this.clock.now(), updated_by: actor.id })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            settings: eb.ref('excluded.settings'),
            updated_at: eb.ref('excluded.updated_at'),
            updated_by: eb.ref('excluded.updated_by'),
          })),
        )
        .execute();
      // what counts as an alert may have changed: the next sweep reads the whole fleet again
      await forgetLastSweep(trx);
      await this.audit.record(
        trx,
        actor,
        { action: 'updated_alert_settings', target: { type: 'settings', id: 'alerts' }, details: { changed: changedPaths(patch) } },
        ip,
      );
    });
    this.#cached = undefined;
    return merged;
  }

  #seal(s: AlertSettings) {
    const seal = (v: string | null) => (v === null ? null : encrypt(this.encryptionKey, Buffer.from(v)));
    return {
      ...s,
      channels: {
        ...s.channels,
        discord: { ...s.channels.discord, webhookUrl: seal(s.channels.discord.webhookUrl) },
        email: { ...s.channels.email, smtpUrl: seal(s.channels.email.smtpUrl) },
      },
    };
  }

  #unseal(stored: unknown): AlertSettings {
    const s = settingsSchema.parse(stored);
    const open = (v: string | null) => (v === null ? null : decrypt(this.encryptionKey, v).toString());
    return {
      ...s,
      channels: {
        ...s.channels,
        discord: { ...s.channels.discord, webhookUrl: open(s.channels.discord.webhookUrl) },
        email: { ...s.channels.email, smtpUrl: open(s.channels.email.smtpUrl) },
      },
    };
  }
}

function merge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v);
  return out;
}

/** Dotted paths of what a patch changes, for the audit log (values left out: some are secrets). */
function changedPaths(patch: unknown, prefix = ''): string[] {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return [prefix];
  return Object.entries(patch).flatMap(([k, v]) => (v === undefined ? [] : changedPaths(v, prefix ? `${prefix}.${k}` : k)));
}
