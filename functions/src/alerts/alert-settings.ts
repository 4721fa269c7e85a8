import type { AuditService } from '../audit/index.js';
import type { AdminActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { decrypt, encrypt } from '../core/crypto.js';
import { badRequest } from '../core/errors.js';
import type { Db } from '../ports/db.js';
import { ALERT_KINDS } from './alert-kinds.js';
import { findSettings, patchSettings } from './alerts.repository.js';
import { settingsSchema, type AlertSettings, type SettingsPatch } from './alerts.schemas.js';
import { forgetLastSweep } from './sweep.repository.js';

/**
 * Alert settings (the schema is in alerts.schemas.ts): the row in the database once an admin changed
 * them, the environment's defaults until then. Channel URLs are stored sealed and never shown back.
 */

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

/**
 * The environment's defaults, in force until an admin changes the settings (the server's config:
 * ALERT_OFFLINE_AFTER_SEC and its alertDefaults).
 */
export interface AlertDefaults {
  offlineAfterSec: number;
  lowBatteryPct: number;
  frameAgeMs: number;
  holdSec: number;
  cooldownSec: number;
  digestWindowSec: number;
  maxMessagesPerMinute: number;
  dailyBudget: number;
  stepTimeoutSec: number;
  discordWebhookUrl: string | undefined;
  smtpUrl: string | undefined;
  emailTo: string[];
  emailFrom: string;
}

export function defaultSettings(d: AlertDefaults): AlertSettings {
  return {
    thresholds: {
      offlineAfterSec: d.offlineAfterSec,
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

/** How long an instance keeps the settings: a change made on another instance shows within this. */
const CACHE_MS = 1000;

export class AlertSettingsService {
  #cached: { at: number; value: AlertSettings } | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly defaults: AlertSettings,
    private readonly encryptionKey: Buffer,
    private readonly webhookHosts: readonly string[] = [],
  ) {}

  /** The settings in force (cached for a second: the sweep and the device list read them often). */
  async current(): Promise<AlertSettings> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < CACHE_MS) return this.#cached.value;
    const row = await findSettings(this.db);
    const value = row ? this.#unseal(row.settings) : this.defaults;
    this.#cached = { at: now, value };
    return value;
  }

  /**
   * Applies a patch: only the paths it names are written, in one SQL statement, so changes made at
   * the same time elsewhere are kept. The result is checked against the schema before it commits.
   */
  async update(actor: AdminActor, patch: SettingsPatch, ip: string): Promise<AlertSettings> {
    this.#cached = undefined;
    settingsSchema.parse(merge(await this.current(), patch)); // refuses a bad patch before writing
    const webhook = patch.channels?.discord?.webhookUrl;
    if (webhook) {
      const host = new URL(webhook).hostname.toLowerCase();
      if (!this.webhookHosts.includes(host)) {
        throw badRequest(
          'webhook_host_not_allowed',
          `a Discord webhook URL must point at ${this.webhookHosts.join(', ')} (DISCORD_WEBHOOK_HOSTS), not ${host}`,
        );
      }
    }
    const merged = await this.db.transaction().execute(async (trx) => {
      const stored = await patchSettings(trx, {
        initial: JSON.stringify(this.#seal(this.defaults)),
        sets: leaves(this.#sealPatch(patch)),
        updatedAt: this.clock.now(),
        updatedBy: actor.id,
      });
      const result = this.#unseal(stored);
      // what counts as an alert may have changed: the next sweep reads the whole fleet again
      await forgetLastSweep(trx);
      await this.audit.record(
        trx,
        actor,
        { action: 'updated_alert_settings', target: { type: 'settings', id: 'alerts' }, details: { changed: changedPaths(patch) } },
        ip,
      );
      return result;
    });
    this.#cached = undefined;
    return merged;
  }

  /** The patch with channel URLs sealed, as they are stored. */
  #sealPatch(p: SettingsPatch): SettingsPatch {
    const seal = (v: string | null | undefined) => (v === null || v === undefined ? v : encrypt(this.encryptionKey, Buffer.from(v)));
    const { discord, email } = p.channels ?? {};
    if (!discord?.webhookUrl && !email?.smtpUrl) return p;
    return {
      ...p,
      channels: {
        ...p.channels,
        ...(discord ? { discord: { ...discord, webhookUrl: seal(discord.webhookUrl) } } : {}),
        ...(email ? { email: { ...email, smtpUrl: seal(email.smtpUrl) } } : {}),
      },
    };
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

/** Each value a patch sets, with its path (objects are walked into; arrays and scalars are values). */
function leaves(patch: unknown, path: string[] = []): { path: string[]; value: unknown }[] {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return [{ path, value: patch }];
  return Object.entries(patch).flatMap(([k, v]) => (v === undefined ? [] : leaves(v, [...path, k])));
}

/** Dotted paths of what a patch changes, for the audit log (values left out: some are secrets). */
function changedPaths(patch: unknown, prefix = ''): string[] {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return [prefix];
  return Object.entries(patch).flatMap(([k, v]) => (v === undefined ? [] : changedPaths(v, prefix ? `${prefix}.${k}` : k)));
}
