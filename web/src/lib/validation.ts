/**
 * Client-side checks that match the server's zod schemas, so a form says what is wrong before it is
 * sent. The patterns and limits are the server's own: tests/api-types.test.ts compares each with
 * the OpenAPI document the server publishes, so they cannot drift apart silently.
 */
/** functions/src/enrollment/enrollment.schemas.ts groupName */
export const GROUP_NAME = /^[\p{L}\p{N}_][\p{L}\p{N} _.:-]{0,63}$/u;
/** functions/src/enrollment/enrollment.schemas.ts tagName */
export const TAG_NAME = /^[\p{L}\p{N}_][\p{L}\p{N}_.:-]{0,63}$/u;
export const GROUP_RULE = 'Use letters, digits, spaces and _ . : - only (up to 64 characters, not starting with a space or symbol).';
export const TAG_RULE = 'Use letters, digits and _ . : - only, no spaces (up to 64 characters each).';

/** functions/src/alerts/alert-settings.ts settingsSchema.thresholds: [minimum, maximum]. */
export const THRESHOLD_LIMITS = {
  offlineAfterSec: [30, 604_800],
  lowBatteryPct: [1, 50],
  frameAgeMs: [1000, 3_600_000],
  holdSec: [0, 86_400],
  cooldownSec: [0, 86_400],
  digestWindowSec: [0, 3600],
} as const;
/** functions/src/enrollment/enrollment.schemas.ts maxUses */
export const MAX_USES: readonly [number, number] = [1, 100_000];

export function checkGroup(value: string): string | null {
  const v = value.trim();
  return v === '' || GROUP_NAME.test(v) ? null : `“${v}” cannot be a group name. ${GROUP_RULE}`;
}

export function checkTags(tags: readonly string[]): string | null {
  const bad = tags.find((t) => !TAG_NAME.test(t));
  if (bad !== undefined) return `“${bad}” cannot be a tag. ${TAG_RULE}`;
  return tags.length > 20 ? 'A device can have at most 20 tags.' : null;
}

export function checkRange(value: unknown, [min, max]: readonly [number, number], unit = ''): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number.';
  if (!Number.isInteger(value)) return 'Enter a whole number.';
  if (value < min) return `Must be at least ${min}${unit}.`;
  if (value > max) return `Must be at most ${max}${unit}.`;
  return null;
}
