import { z } from 'zod';
import { groupName, tagName, uuid } from '../core/schemas.js';

/** Where a device is in its life: active; retiring (a WIPE or RELEASE_OWNER is on its way to it); retired (its credentials no longer work). */
export const LIFECYCLES = ['active', 'retiring', 'retired'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

/**
 * Whoever retires a device says what it is sent first: a WIPE (factory reset), a RELEASE_OWNER (the agent
 * gives up Device Owner; the device keeps its data), or nothing. At least one of the two must be stated
 * (no silent default); both true is 400 retire_one_command (the service checks it, with a stable code).
 */
export const retireBody = z
  .object({
    wipe: z
      .boolean()
      .optional()
      .describe(
        'true: send a signed WIPE first; the device stays "retiring" (its credentials work) until it has taken the WIPE or the WIPE expired. false: retired at once',
      ),
    releaseOwner: z
      .boolean()
      .optional()
      .describe(
        'true: send a signed RELEASE_OWNER first (the agent gives up Device Owner, the device keeps its data and becomes an ordinary phone); "retiring" until the device took it, like wipe. Not with wipe: true',
      ),
  })
  .strict()
  .refine((b) => b.wipe !== undefined || b.releaseOwner !== undefined, 'say wipe: true|false or releaseOwner: true|false');
export type RetireInput = z.output<typeof retireBody>;

export const replaceBody = z
  .object({ newDeviceId: uuid.describe('The device that takes over the name, group and tags of the one in the path') })
  .strict();

/** The devices of one bulk edit: at most 1000, all of which must exist, or nothing changes. */
const deviceIds = z.array(uuid).min(1).max(1000);

export const moveDevicesBody = z
  .object({
    deviceIds,
    group: groupName.nullable().describe('A group name (created if new); null: no group'),
    dryRun: z.boolean().optional().describe('true: only count the devices that would change'),
  })
  .strict();
export type MoveDevicesInput = z.output<typeof moveDevicesBody>;

export const tagDevicesBody = z
  .object({
    deviceIds,
    add: z.array(tagName).max(20).optional(),
    remove: z.array(tagName).max(20).optional(),
    dryRun: z.boolean().optional().describe('true: only count the devices that would change'),
  })
  .strict()
  .refine((b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) > 0, 'name tags to add or remove')
  .refine((b) => !(b.add ?? []).some((t) => (b.remove ?? []).includes(t)), 'a tag cannot be both added and removed');
export type TagDevicesInput = z.output<typeof tagDevicesBody>;

export const bulkResult = z.object({
  matched: z.number().int().describe('Devices named'),
  changed: z.number().int().describe('Devices whose group or tags changed (the blast radius)'),
  dryRun: z.boolean(),
});

export const retireResult = z.object({
  id: uuid,
  lifecycle: z.enum(LIFECYCLES),
  wipeCommandId: uuid.nullable().describe('The WIPE sent before retiring, if any'),
  releaseOwnerCommandId: uuid.nullable().describe('The RELEASE_OWNER sent before retiring, if any'),
  commandsCancelled: z.number().int().describe('Open commands that will not be delivered (ended as expired)'),
  alertsResolved: z.number().int(),
});

export const replaceResult = z.object({
  oldDeviceId: uuid,
  newDeviceId: uuid,
  name: z.string().nullable(),
  group: z.string().nullable(),
  tags: z.array(z.string()),
});
