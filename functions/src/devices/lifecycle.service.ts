import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, badRequest, conflict, notFound } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { LiveView } from '../fleet-view/index.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { upsertGroup } from './devices.repository.js';
import {
  deleteDeviceRows,
  finishRetiring,
  lockDevice,
  lockDevices,
  lockPair,
  markRetired,
  markRetiring,
  moveDevices,
  tagDevices,
  takeOverIdentity,
} from './lifecycle.repository.js';
import type { MoveDevicesInput, RetireInput, TagDevicesInput } from './lifecycle.schemas.js';

/**
 * What retiring a device asks of the other contexts (wired in app.ts, like the heartbeat's
 * CommandOutbox): a signed WIPE, its open commands ended, its open alerts ended. Each runs in its
 * own context's transaction, after or before ours, never inside it.
 */
export interface LifecycleEffects {
  /** Queues a signed WIPE or RELEASE_OWNER for one device (audited as sent_command); returns the command's id. */
  sendFinal(actor: AdminActor, deviceId: string, type: FinalCommand, ip: string): Promise<string>;
  /** Ends the devices' open commands (as expired, "device retired"); returns how many. */
  cancelCommands(deviceIds: string[]): Promise<number>;
  /** Resolves the devices' open alerts without telling anyone; returns how many. */
  closeAlerts(deviceIds: string[]): Promise<number>;
}

/** What retiring may send a device first: the commands that end the server's hold on it. */
export type FinalCommand = 'WIPE' | 'RELEASE_OWNER';

/** Thrown inside a dry run's transaction so that it rolls back; carries the answer. */
class DryRun<T> extends Error {
  constructor(readonly result: T) {
    super('dry run');
  }
}

/**
 * A device's life after enrollment: retire (at once, or after a signed WIPE reached it), delete after
 * retiring, hand a device's identity to its replacement, and bulk moves and tag edits. Every change is
 * audited in the transaction that makes it; the live view is told after the commit.
 */
export class LifecycleService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly liveView: LiveView,
    private readonly effects: LifecycleEffects,
    private readonly logger: Logger,
  ) {}

  /**
   * Retires a device. Without a final command its credentials stop working at once. With one (a WIPE,
   * or a RELEASE_OWNER that makes the agent give up Device Owner), its other open commands end first
   * (so only that command goes out), the command is queued, and the device is "retiring": out of the
   * counts and the sweep, but its credentials still work so its next heartbeat picks the command up;
   * the minute tick retires it once the device reported it delivered (or it ended or expired).
   * Retiring a retiring device without one retires it now.
   */
  async retire(actor: AdminActor, id: string, input: RetireInput, ip: string) {
    if (input.wipe && input.releaseOwner) {
      throw badRequest('retire_one_command', 'a device is either wiped or released from Device Owner before it is retired, not both');
    }
    const final: FinalCommand | null = input.wipe ? 'WIPE' : input.releaseOwner ? 'RELEASE_OWNER' : null;
    const now = this.clock.now();
    const before = await lockDevice(this.db, id);
    if (!before) throw notFound('device');
    if (before.lifecycle === 'retired') throw conflict('device_retired', 'the device is retired already');
    if (final && before.lifecycle === 'retiring') {
      throw conflict(
        'device_retiring',
        'a WIPE or RELEASE_OWNER is already on its way to this device; retire it without one to retire it now',
      );
    }
    let commandId: string | null = null;
    let cancelled = 0;
    if (final) {
      cancelled = await this.effects.cancelCommands([id]);
      commandId = await this.effects.sendFinal(actor, id, final, ip);
    }
    const lifecycle = final ? 'retiring' : 'retired';
    const wipeCommandId = final === 'WIPE' ? commandId : null;
    const releaseOwnerCommandId = final === 'RELEASE_OWNER' ? commandId : null;
    await this.db.transaction().execute(async (trx) => {
      const d = await lockDevice(trx, id);
      if (!d) throw notFound('device');
      const changed = final ? await markRetiring(trx, id, now, commandId!) : await markRetired(trx, id, now);
      if (!changed) throw conflict('device_retired', 'the device was retired meanwhile');
      await this.audit.record(
        trx,
        actor,
        {
          action: 'retired_device',
          target: { type: 'device', id },
          details: {
            lifecycle,
            wipe: final === 'WIPE',
            ...(final === 'RELEASE_OWNER' ? { releaseOwner: true } : {}),
            ...(wipeCommandId ? { wipeCommandId } : {}),
            ...(releaseOwnerCommandId ? { releaseOwnerCommandId } : {}),
            name: d.name,
            serial: d.serial,
          },
        },
        ip,
      );
    });
    if (!final) cancelled = await this.effects.cancelCommands([id]);
    const alertsResolved = await this.effects.closeAlerts([id]);
    await this.publish([id]);
    return { id, lifecycle, wipeCommandId, releaseOwnerCommandId, commandsCancelled: cancelled, alertsResolved };
  }

  /** The minute's work: retiring devices whose WIPE or RELEASE_OWNER was delivered, ended or expired become retired (audited as the system). */
  async finishRetiring(): Promise<number> {
    const now = this.clock.now();
    const ids = await this.db.transaction().execute(async (trx) => {
      const done = await finishRetiring(trx, now);
      for (const { id, type } of done) {
        await this.audit.record(
          trx,
          { kind: 'system', name: 'lifecycle' },
          {
            action: 'retired_device',
            target: { type: 'device', id },
            details: {
              lifecycle: 'retired',
              wipe: type !== 'RELEASE_OWNER',
              ...(type === 'RELEASE_OWNER' ? { releaseOwner: true } : {}),
              name: null,
              serial: null,
            },
          },
        );
      }
      return done.map((r) => r.id);
    });
    if (ids.length) {
      await this.effects.cancelCommands(ids);
      await this.publish(ids);
    }
    return ids.length;
  }

  /**
   * Deletes a retired device with its state, heartbeats, rollups, events, commands and alerts; the
   * audit log keeps every entry about it, and this one keeps a copy of what identified it.
   */
  async remove(actor: AdminActor, id: string, ip: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const d = await lockDevice(trx, id);
      if (!d) throw notFound('device');
      if (d.lifecycle !== 'retired') throw conflict('device_not_retired', 'only a retired device can be deleted; retire it first');
      const counts = await deleteDeviceRows(trx, id);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'deleted_device',
          target: { type: 'device', id },
          details: { name: d.name, model: d.model, serial: d.serial, ...counts },
        },
        ip,
      );
    });
    await this.liveView.removeDevices([id]).catch((err: unknown) => this.logger.warn('mirror removal failed', { id, err }));
    await this.liveView.publishSummary().catch((err: unknown) => this.logger.warn('mirror summary failed', { err }));
  }

  /**
   * The new device takes over the old one's name, group and tags; the old one (retired, retiring or
   * offline - never one that is online: retire it first) is retired, pointing at its replacement.
   */
  async replace(actor: AdminActor, oldId: string, newId: string, ip: string) {
    if (oldId === newId) throw badRequest('same_device', 'a device cannot replace itself');
    const now = this.clock.now();
    const { offlineAfterSec } = await this.liveView.thresholds();
    const onlineSince = new Date(now.getTime() - offlineAfterSec * 1000);
    const result = await this.db.transaction().execute(async (trx) => {
      const [old, nu] = await lockPair(trx, oldId, newId);
      if (!old) throw notFound('device');
      if (!nu) throw notFound('new device');
      if (nu.lifecycle !== 'active') throw conflict('device_not_active', 'the new device is retired or retiring');
      if (old.lifecycle === 'active' && old.last_seen_at >= onlineSince) {
        throw conflict('device_online', 'the device is online: only a retired or offline device can be replaced (retire it first)');
      }
      await takeOverIdentity(trx, old, newId);
      const tags = old.tags ?? [];
      const wasRetired = old.lifecycle === 'retired';
      await markRetired(trx, oldId, now, newId);
      if (wasRetired) await trx.updateTable('devices').set({ replaced_by: newId }).where('id', '=', oldId).execute();
      else
        await this.audit.record(
          trx,
          actor,
          {
            action: 'retired_device',
            target: { type: 'device', id: oldId },
            details: { lifecycle: 'retired', wipe: false, replacedBy: newId, name: old.name, serial: old.serial },
          },
          ip,
        );
      await this.audit.record(
        trx,
        actor,
        {
          action: 'replaced_device',
          target: { type: 'device', id: newId },
          details: { replacedDeviceId: oldId, name: old.name, group: old.group_name, tags },
        },
        ip,
      );
      return { oldDeviceId: oldId, newDeviceId: newId, name: old.name, group: old.group_name, tags };
    });
    await this.effects.cancelCommands([oldId]);
    await this.effects.closeAlerts([oldId]);
    await this.publish([oldId, newId]);
    return result;
  }

  /** Moves devices to a group, all or none; answers how many changed (a dry run changes nothing). */
  async move(actor: AdminActor, input: MoveDevicesInput, ip: string) {
    const ids = [...new Set(input.deviceIds)];
    const result = await this.bulk(input.dryRun ?? false, async (trx) => {
      // the group first, then the devices: the order a single device's edit takes them in
      const groupId = input.group === null ? null : await upsertGroup(trx, input.group);
      await this.lockEditable(trx, ids);
      const changed = await moveDevices(trx, ids, groupId);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'moved_devices',
          target: { type: 'device_batch', id: randomUUID() },
          details: { group: input.group, deviceIds: ids, matched: ids.length, changed },
        },
        ip,
      );
      return { matched: ids.length, changed };
    });
    if (!result.dryRun) await this.publish(ids);
    return result;
  }

  /** Adds and removes tags on devices, all or none; answers how many changed (a dry run changes nothing). */
  async tag(actor: AdminActor, input: TagDevicesInput, ip: string) {
    const ids = [...new Set(input.deviceIds)];
    const add = [...new Set(input.add ?? [])].sort();
    const remove = [...new Set(input.remove ?? [])].sort();
    const result = await this.bulk(input.dryRun ?? false, async (trx) => {
      await this.lockEditable(trx, ids);
      const changed = await tagDevices(trx, ids, add, remove);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'tagged_devices',
          target: { type: 'device_batch', id: randomUUID() },
          details: { add, remove, deviceIds: ids, matched: ids.length, changed },
        },
        ip,
      );
      return { matched: ids.length, changed };
    });
    if (!result.dryRun) await this.publish(ids);
    return result;
  }

  /** Runs a bulk edit in one transaction; a dry run rolls it back and answers what it would have done. */
  private async bulk<T extends object>(dryRun: boolean, work: (trx: Db) => Promise<T>): Promise<T & { dryRun: boolean }> {
    try {
      const result = await this.db.transaction().execute(async (trx) => {
        const r = await work(trx);
        if (dryRun) throw new DryRun(r);
        return r;
      });
      return { ...result, dryRun: false };
    } catch (err) {
      if (err instanceof DryRun) return { ...(err.result as T), dryRun: true };
      throw err;
    }
  }

  /** Locks the devices of a bulk edit: every one must exist and not be retired, or nothing changes. */
  private async lockEditable(trx: Db, ids: string[]): Promise<void> {
    const rows = await lockDevices(trx, ids);
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) throw new AppError(404, 'not_found', `unknown devices: ${missing.slice(0, 10).join(', ')}`);
    const retired = rows.filter((r) => r.lifecycle !== 'active').map((r) => r.id);
    if (retired.length)
      throw conflict('device_retired', `retired or retiring devices cannot be edited: ${retired.slice(0, 10).join(', ')}`);
  }

  private async publish(ids: string[]): Promise<void> {
    await this.liveView.tryPublish(ids);
    await this.liveView.publishSummary().catch((err: unknown) => this.logger.warn('mirror summary failed', { err }));
  }
}
