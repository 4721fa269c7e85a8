import type { Transaction } from 'kysely';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { conflict, notFound } from '../core/errors.js';
import type { StaffActor } from '../core/route.js';
import type { Db } from '../ports/db.js';
import type { Database } from '../ports/schema.generated.js';
import { checkDocument, landscape, recomputeAll, sameMerged, type ReleaseLookup } from './effective.js';
import { diffDocuments, type PolicyDocument } from './policy-document.js';
import * as repo from './policies.repository.js';
import type { PreviewBody, VersionsQuery } from './policies.schemas.js';

export interface PolicyOptions {
  agentPackage: string;
  /** How many device names a preview lists. */
  previewNames: number;
}

/** Who saves a policy: an operator, or the system (a staged rollout keeping its scope's policy in step). */
type Saver = StaffActor | { kind: 'system'; name: string };
type Target = { scope: 'fleet' } | { scope: 'group'; groupId: string } | { scope: 'device'; deviceId: string };
const keyOf = (t: Target) => repo.layerKey(t.scope, t.scope === 'group' ? t.groupId : t.scope === 'device' ? t.deviceId : null);

/**
 * Policies as operators edit them: the fleet default, a group's policy, a device's override. Every
 * save that changes a document is a new immutable version with its diff, audited with the same diff;
 * the effective documents of every device it touches are recomputed in the same transaction, so the
 * next heartbeat of each already carries the new hash. Saving the same document again changes nothing
 * (a retried PUT is harmless).
 */
export class PolicyService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly releases: ReleaseLookup,
    private readonly options: PolicyOptions,
  ) {}

  async get(t: Target) {
    await this.requireTarget(this.db, t);
    const row = await repo.findLayer(this.db, keyOf(t));
    if (!row) return { ...describe(t), version: null, document: null, updatedAt: null };
    return {
      ...describe(t),
      version: Number(row.version) || null,
      document: row.document as PolicyDocument,
      updatedAt: Number(row.version) ? row.updated_at : null,
      effective: { version: Number(row.effective_version), hash: row.effective_hash },
    };
  }

  async put(actor: StaffActor, t: Target, document: PolicyDocument, ip: string) {
    await checkDocument(document, this.releases, this.options.agentPackage);
    await this.write(actor, t, document, ip);
    return this.get(t);
  }

  /** Removes a device's override: the device falls back to its group's policy (a version with a null document). */
  async remove(actor: StaffActor, deviceId: string, ip: string) {
    await this.write(actor, { scope: 'device', deviceId }, null, ip);
    return this.get({ scope: 'device', deviceId });
  }

  private async write(actor: StaffActor, t: Target, document: PolicyDocument | null, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      await repo.lockPolicies(trx);
      await this.writeIn(trx, actor, t, document, ip);
    });
  }

  /**
   * A staged rollout's end, in its transaction (docs/policies.md#rollouts): the layer of the rollout's
   * scope (the group's policy, or the fleet default for a fleet rollout) that names release `from` in
   * `field` is saved naming `to`: a new version, its effective documents recomputed, audited with the
   * actor given (the system's `rollouts`). A layer that does not name `from` is left as it is.
   */
  async followRollout(
    trx: Db,
    actor: Saver,
    change: { groupId: string | null; field: 'kioskApp' | 'agentRelease'; from: string; to: string; rollout: string },
  ): Promise<boolean> {
    await repo.lockPolicies(trx);
    const t: Target = change.groupId === null ? { scope: 'fleet' } : { scope: 'group', groupId: change.groupId };
    const current = await repo.findLayer(trx, keyOf(t));
    if (!current || Number(current.version) === 0) return false;
    const document = current.document as PolicyDocument;
    if (document[change.field]?.releaseId !== change.from) return false;
    const next = { ...document, [change.field]: { releaseId: change.to } };
    await this.writeIn(trx as Transaction<Database>, actor, t, next, undefined, { rollout: change.rollout });
    return true;
  }

  /** Saves a layer's document in the caller's transaction, which holds the policy lock. */
  private async writeIn(
    trx: Transaction<Database>,
    actor: Saver,
    t: Target,
    document: PolicyDocument | null,
    ip: string | undefined,
    more: { rollout?: string } = {},
  ) {
    const key = keyOf(t);
    {
      await this.requireTarget(trx, t);
      const current = await repo.findLayer(trx, key);
      const before = current && Number(current.version) > 0 ? (current.document as PolicyDocument) : null;
      const diff = diffDocuments(before ?? {}, document ?? {});
      if (diff.length === 0 && (before === null) === (document === null)) return;
      const now = this.clock.now();
      const version = await repo.insertVersion(trx, {
        scope: t.scope,
        groupId: t.scope === 'group' ? t.groupId : null,
        deviceId: t.scope === 'device' ? t.deviceId : null,
        document,
        diff,
        at: now,
        by: actor.kind === 'admin' ? actor.id : null,
        byName: actor.kind === 'admin' ? actor.email : actor.name,
      });
      if (document === null) await repo.deleteLayer(trx, key);
      else
        await repo.upsertLayer(trx, {
          key,
          scope: t.scope,
          groupId: t.scope === 'group' ? t.groupId : null,
          deviceId: t.scope === 'device' ? t.deviceId : null,
          version,
          document,
          at: now,
        });
      await recomputeAll(trx, this.releases);
      await this.audit.record(
        trx,
        actor,
        {
          action: document === null ? 'removed_policy' : 'saved_policy',
          target: t.scope === 'device' ? { type: 'device', id: t.deviceId } : { type: 'policy', id: key },
          details: { scope: t.scope, version, diff, ...more },
        },
        ip,
      );
    }
  }

  private async requireTarget(db: Db, t: Target) {
    if (t.scope === 'group' && !(await repo.findGroup(db, t.groupId))) throw notFound('group');
    if (t.scope === 'device') {
      const d = await repo.findDevice(db, t.deviceId);
      if (!d) throw notFound('device');
      if (d.lifecycle === 'retired') throw conflict('device_retired', 'a retired device has no policy');
    }
  }

  async versions(q: VersionsQuery) {
    const rows = await repo.listVersions(this.db, q);
    return {
      items: rows.map((v) => ({
        version: Number(v.id),
        scope: v.scope as repo.Scope,
        groupId: v.group_id,
        group: v.group_name,
        deviceId: v.device_id,
        changes: (v.diff as unknown as unknown[]).length,
        createdAt: v.created_at,
        createdBy: v.created_by_name,
      })),
    };
  }

  /** One version, its document and its diff against the version of the same layer before it. */
  async version(id: number) {
    const v = await repo.findVersion(this.db, id);
    if (!v) throw notFound('policy version');
    const prev = await repo.previousVersion(this.db, v);
    return {
      version: Number(v.id),
      scope: v.scope as repo.Scope,
      groupId: v.group_id,
      group: v.group_name,
      deviceId: v.device_id,
      document: v.document as PolicyDocument | null,
      previousVersion: prev ? Number(prev.id) : null,
      previous: (prev?.document ?? null) as PolicyDocument | null,
      diff: diffDocuments(prev?.document ?? {}, v.document ?? {}),
      createdAt: v.created_at,
      createdBy: v.created_by_name,
    };
  }

  /**
   * Which devices a save would change: their effective documents compared before and after, in
   * memory (layers are few), then one query counts the devices and names the first ones.
   */
  async preview(body: PreviewBody) {
    const t: Target =
      body.scope === 'fleet'
        ? { scope: 'fleet' }
        : body.scope === 'group'
          ? { scope: 'group', groupId: body.groupId! }
          : { scope: 'device', deviceId: body.deviceId! };
    await this.requireTarget(this.db, t);
    const document = body.document ?? null;
    if (document) await checkDocument(document, this.releases, this.options.agentPackage);
    const rows = await repo.allLayers(this.db);
    const overrideIds = rows.filter((r) => r.scope === 'device').map((r) => r.device_id!);
    const groupOf = await repo.groupsOf(this.db, t.scope === 'device' ? [...overrideIds, t.deviceId] : overrideIds);
    const key = keyOf(t);
    const before = landscape(rows, groupOf);
    const after = landscape(rows, groupOf, { key, document });
    const rowGroups = rows.filter((r) => r.scope === 'group').map((r) => r.group_id!);
    const afterGroups = [...after.rows.values()].filter((r) => r.row.scope === 'group').map((r) => r.groupId!);
    const changedGroups = [...new Set([...rowGroups, ...afterGroups])].filter(
      (g) => !sameMerged(before.rows.get(`g:${g}`)?.merged ?? before.fleet, after.rows.get(`g:${g}`)?.merged ?? after.fleet),
    );
    const devices = [...new Set([...overrideIds, ...(t.scope === 'device' ? [t.deviceId] : [])])];
    // a device's effective document without an override row is its group's (or the fleet's)
    const groupMerged = (l: typeof before, g: string | null) => (g && l.rows.get(`g:${g}`)?.merged) || l.fleet;
    const mergedOf = (l: typeof before, d: string) => l.rows.get(`d:${d}`)?.merged ?? groupMerged(l, groupOf.get(d) ?? null);
    const changedDevices = devices.filter((d) => !sameMerged(mergedOf(before, d), mergedOf(after, d)));
    const affected = await repo.devicesAffected(this.db, {
      changedGroups,
      fleetChanged: !sameMerged(before.fleet, after.fleet),
      groupsWithRows: [...new Set([...rowGroups, ...afterGroups])],
      changedDevices,
      // devices whose override decides for them (their group's change is judged per device above)
      overrideDevices: devices,
      first: this.options.previewNames,
    });
    return { count: affected.count, devices: affected.names };
  }

  /** The tick's repair: overrides computed for a group their device has left are recomputed. */
  async refreshStale() {
    if ((await repo.staleOverrides(this.db)) === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      await repo.lockPolicies(trx);
      return recomputeAll(trx, this.releases);
    });
  }
}

function describe(t: Target) {
  return t.scope === 'fleet'
    ? { scope: t.scope, groupId: null, deviceId: null }
    : t.scope === 'group'
      ? { scope: t.scope, groupId: t.groupId, deviceId: null }
      : { scope: t.scope, groupId: null, deviceId: t.deviceId };
}
