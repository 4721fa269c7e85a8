import { z } from 'zod';
import { groupName, idParams, isoDateTime, limitQuery, nonEmptyText, text, uuid } from '../core/schemas.js';

/** The rollouts API's shapes (docs/rollouts.md). */

export const ROLLOUT_STATES = ['draft', 'running', 'paused', 'completed', 'aborted', 'rolled_back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const WAVE_STATES = ['pending', 'installing', 'soaking', 'passed', 'failed'] as const;
export type WaveState = (typeof WAVE_STATES)[number];

/** How much worse than the devices still on A a wave may be before its gate fails. */
export const marginSchema = z
  .object({
    appDownPct: z.number().min(0).max(100).default(5).describe('Percentage points of heartbeats with the app not running or not in front'),
    frozenPct: z
      .number()
      .min(0)
      .max(100)
      .default(5)
      .describe('Percentage points of heartbeats with the last frame older than the frozen threshold'),
    offlinePct: z.number().min(0).max(100).default(10).describe('Percentage points of devices offline at the gate'),
    crashesPerDeviceHour: z.number().min(0).max(10_000).default(1).describe('Crash and relaunch events per device-hour'),
    minUpdatedPct: z.number().min(0).max(100).default(90).describe("Share of the wave's devices that must report B's versionCode"),
  })
  .strict();
export type Margin = z.output<typeof marginSchema>;

const wave = z.union([
  z.object({ percent: z.number().int().min(1).max(100) }).strict(),
  z.object({ count: z.number().int().min(1).max(10_000_000) }).strict(),
]);

export const createRolloutBody = z
  .object({
    name: nonEmptyText(120),
    fromReleaseId: uuid.describe('Release A: the devices running its versionCode are moved'),
    toReleaseId: uuid.describe('Release B: same package, not bad, a higher versionCode unless allowDowngrade'),
    group: groupName.optional().describe('The group to roll out to; absent: the whole fleet'),
    waves: z
      .array(wave)
      .min(1)
      .max(20)
      .describe("Each wave: {percent} of all the rollout's devices, cumulative (e.g. 1, 10, 50, 100), or {count} more devices"),
    soakSec: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .describe('How long a wave runs on B before its gate'),
    installTimeoutSec: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600)
      .describe('The soak starts once every device of the wave reports B, or after this long'),
    margin: marginSchema.default(marginSchema.parse({})),
    rollbackOnFailure: z.boolean().default(true),
    allowDowngrade: z.boolean().default(false),
    start: z.boolean().default(false).describe('Start at once instead of leaving a draft'),
  })
  .strict();
export type CreateRolloutInput = z.output<typeof createRolloutBody>;

export const rolloutParams = idParams;
export const reasonBody = z.object({ reason: text(500).optional() }).strict();
export const listRolloutsQuery = z.object({ limit: limitQuery(50, 200), state: z.enum(ROLLOUT_STATES).optional() });

const cohort = z.object({
  devices: z.number(),
  samples: z.number(),
  appDownPct: z.number(),
  frozenPct: z.number(),
  offlinePct: z.number(),
  crashes: z.number(),
  deviceHours: z.number(),
  crashesPerDeviceHour: z.number(),
});
export type CohortHealth = z.output<typeof cohort>;

export const verdictSchema = z.object({
  passed: z.boolean(),
  at: isoDateTime,
  /** Set when an operator promoted the wave instead of its gate deciding. */
  promotedBy: z.string().optional(),
  updatedPct: z.number().optional(),
  wave: cohort.optional(),
  baseline: cohort.optional(),
  margin: marginSchema.optional(),
  reasons: z.array(z.string()),
});
export type Verdict = z.output<typeof verdictSchema>;

export const waveView = z.object({
  index: z.number(),
  size: z.union([z.object({ percent: z.number() }), z.object({ count: z.number() })]),
  state: z.enum(WAVE_STATES),
  devices: z.number(),
  /** Install sent, B not reported yet. */
  pending: z.number(),
  /** Reported B's versionCode after the install was sent. */
  updated: z.number(),
  /** Not updated when the wave was decided (install failed, offline, never reported B), or not sent. */
  failed: z.number(),
  rollbackSent: z.number(),
  rolledBack: z.number(),
  installingAt: isoDateTime.nullable(),
  soakingAt: isoDateTime.nullable(),
  decidedAt: isoDateTime.nullable(),
  verdict: verdictSchema.nullable(),
});

export const rolloutView = z.object({
  id: uuid,
  name: z.string(),
  packageName: z.string(),
  from: z.object({ releaseId: uuid, versionCode: z.number() }),
  to: z.object({ releaseId: uuid, versionCode: z.number() }),
  group: z.string().nullable(),
  state: z.enum(ROLLOUT_STATES),
  currentWave: z.number().nullable(),
  pausedReason: z.string().nullable(),
  soakSec: z.number(),
  installTimeoutSec: z.number(),
  margin: marginSchema,
  rollbackOnFailure: z.boolean(),
  allowDowngrade: z.boolean(),
  devices: z.number(),
  createdAt: isoDateTime,
  createdBy: z.string().nullable(),
  startedAt: isoDateTime.nullable(),
  finishedAt: isoDateTime.nullable(),
  waves: z.array(waveView),
});
export type RolloutView = z.output<typeof rolloutView>;
export const rolloutPage = z.object({ items: z.array(rolloutView), nextCursor: z.string().nullable() });
