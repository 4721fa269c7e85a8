import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InstallableRelease } from '../catalog/index.js';
import { text } from '../core/schemas.js';

/**
 * The policy document (docs/policies.md): what a device should look like. Every field is optional in
 * a layer; the effective document is the fleet default, then the group's, then the device's
 * override, merged field by field (a layer that sets a field replaces it whole - lists and maps
 * included). Unknown fields are refused (`.strict()`), so a typo never silently does nothing.
 */

/** DevicePolicyManager.LOCK_TASK_FEATURE_* (Android 9+). */
export const LOCK_TASK_FEATURES = [
  'SYSTEM_INFO',
  'NOTIFICATIONS',
  'HOME',
  'OVERVIEW',
  'GLOBAL_ACTIONS',
  'KEYGUARD',
  'BLOCK_ACTIVITY_START_IN_TASK',
] as const;

/** UserManager.DISALLOW_* key strings, as DevicePolicyManager.addUserRestriction takes them. */
export const USER_RESTRICTIONS = [
  'no_safe_boot',
  'no_factory_reset',
  'no_usb_file_transfer',
  'no_adjust_volume',
  'no_config_wifi',
  'no_install_unknown_sources',
  'no_add_user',
  'no_debugging_features',
  'no_config_bluetooth',
  'no_mount_physical_media',
  'no_config_date_time',
  'no_uninstall_apps',
  'no_modify_accounts',
  'no_config_location',
  'no_outgoing_calls',
  'no_sms',
] as const;

export const SYSTEM_UPDATE_TYPES = ['automatic', 'windowed', 'postponed'] as const;

const minuteOfDay = z.number().int().min(0).max(1439);
const releaseRef = z.object({ releaseId: z.uuid() }).strict();

/** An IANA zone name the runtime knows ('Europe/Berlin', 'UTC'); anything else is refused. */
export const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz);
  } catch {
    return false;
  }
};

export const policyDocument = z
  .object({
    kioskApp: releaseRef.optional().describe('The kiosk app: a catalog release (found, not bad, not the agent)'),
    agentRelease: releaseRef.optional().describe("The agent's release: a catalog release of the agent package"),
    heartbeatIntervalSec: z.number().int().min(30).max(86_400).optional(),
    lockTaskFeatures: z.array(z.enum(LOCK_TASK_FEATURES)).max(LOCK_TASK_FEATURES.length).optional(),
    keyguardDisabled: z.boolean().optional(),
    statusBarDisabled: z.boolean().optional(),
    userRestrictions: z
      .array(z.enum(USER_RESTRICTIONS))
      .max(USER_RESTRICTIONS.length)
      .optional()
      .describe('UserManager DISALLOW_* keys to set; the ones not listed are cleared'),
    kioskPermissions: z
      .record(
        text(150).regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/, 'a runtime permission name such as android.permission.CAMERA'),
        z.enum(['grant', 'deny']),
      )
      .refine((m) => Object.keys(m).length <= 50, 'at most 50 permissions')
      .optional()
      .describe('Runtime permissions of the kiosk app: grant or deny'),
    systemUpdate: z
      .object({
        type: z.enum(SYSTEM_UPDATE_TYPES),
        startMinute: minuteOfDay.optional().describe('windowed: minutes after local midnight'),
        endMinute: minuteOfDay.optional().describe('windowed: after startMinute (same day)'),
      })
      .strict()
      .optional(),
    screenTimeoutSec: z.number().int().min(5).max(86_400).optional(),
    timeZone: text(64)
      .refine(isTimeZone, 'an IANA time zone such as Europe/Berlin or UTC')
      .optional()
      .describe('IANA time zone; alert hours are set on the group, not here'),
  })
  .strict();
export type PolicyDocument = z.output<typeof policyDocument>;
export type PolicyItem = keyof PolicyDocument;
export const POLICY_ITEMS = Object.keys(policyDocument.shape) as PolicyItem[];

/** A release as a policy names it resolved: what an INSTALL_APK envelope carries about it. */
export type ResolvedRelease = InstallableRelease;

/**
 * The document as the device gets it: release references resolved to what an install needs. The
 * signed params are exactly `canonicalJson(this)`; its SHA-256 is the policy hash.
 */
export type EffectiveDocument = Omit<PolicyDocument, 'kioskApp' | 'agentRelease'> & {
  kioskApp?: ResolvedRelease;
  agentRelease?: ResolvedRelease;
};

/** JSON with object keys sorted (by UTF-16 code unit) at every depth and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The policy hash: lowercase hex SHA-256 of the canonical JSON's UTF-8 bytes. */
export const policyHash = (doc: unknown) => createHash('sha256').update(canonicalJson(doc), 'utf8').digest('hex');

/** The merge rule: later layers replace earlier ones field by field; a field a layer leaves out is inherited. */
export function mergeLayers<T extends Record<string, unknown>>(...layers: (T | null | undefined)[]): T {
  const out: Record<string, unknown> = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer ?? {})) if (v !== undefined) out[k] = v;
  return out as T;
}

export interface DiffEntry {
  path: string;
  op: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

/** What changed between two JSON documents, by path (objects compared key by key; arrays and scalars whole). */
export function diffDocuments(before: unknown, after: unknown, path = ''): DiffEntry[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in before) || before[k] === undefined) return [{ path: p, op: 'added' as const, to: after[k] }];
      if (!(k in after) || after[k] === undefined) return [{ path: p, op: 'removed' as const, from: before[k] }];
      return diffDocuments(before[k], after[k], p);
    });
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path: path || '$', op: 'changed', from: before, to: after }];
}
