import { AppError, badRequest, conflict } from '../core/errors.js';
import type { Db } from '../ports/db.js';
import {
  canonicalJson,
  mergeLayers,
  policyHash,
  type EffectiveDocument,
  type PolicyDocument,
  type ResolvedRelease,
} from './policy-document.js';
import { allLayers, groupsOf, setEffective, type LayerRow } from './policies.repository.js';
import type { Transaction } from 'kysely';
import type { Database } from '../ports/schema.generated.js';

/** What the policies need of the catalog: a release an install may name (404 release_not_found, 409 release_bad). */
export interface ReleaseLookup {
  /** `db`: the caller's transaction, when it holds one. */
  installable(id: string, db?: Db): Promise<ResolvedRelease>;
}

/** One layer as the merge sees it: its document and version (the fleet default at version 0 is "never saved"). */
interface Layer {
  document: PolicyDocument;
  version: number;
}

export interface Merged {
  document: PolicyDocument;
  version: number;
  /** False while only the never-saved fleet default applies: no policy, nothing to comply with. */
  set: boolean;
}

const layerOf = (r: LayerRow | undefined): Layer | undefined => r && { document: r.document as PolicyDocument, version: Number(r.version) };

/** The merge of the layers that apply, in order (fleet, group, device). */
export function merge(...layers: (Layer | undefined)[]): Merged {
  const present = layers.filter((l): l is Layer => l !== undefined);
  return {
    document: mergeLayers(...present.map((l) => l.document)),
    version: Math.max(0, ...present.map((l) => l.version)),
    set: present.some((l) => l.version > 0),
  };
}

/** Every stored layer with what it merges to: rows keyed by `policies.key`, and "no group row" (the fleet's alone). */
export interface Landscape {
  fleet: Merged;
  rows: Map<string, { row: LayerRow; merged: Merged; groupId: string | null }>;
}

/**
 * Computes every row's effective document from the given layers. `replace` swaps one layer's document
 * (a preview of a save, or null for a removed override) without writing anything.
 */
export function landscape(
  rows: LayerRow[],
  deviceGroups: Map<string, string | null>,
  replace?: { key: string; document: PolicyDocument | null },
): Landscape {
  let layers = rows;
  if (replace) {
    const existing = rows.find((r) => r.key === replace.key);
    layers = rows.filter((r) => r.key !== replace.key);
    if (replace.document !== null) {
      const [scope, id] = replace.key === 'fleet' ? ['fleet', null] : replace.key.split(':');
      layers.push({
        ...(existing ?? {
          key: replace.key,
          scope: scope === 'g' ? 'group' : 'device',
          group_id: scope === 'g' ? id! : null,
          device_id: scope === 'd' ? id! : null,
          effective: {},
          effective_hash: null,
          effective_version: 0,
          effective_group_id: null,
          updated_at: new Date(0),
        }),
        document: replace.document,
        version: Number.MAX_SAFE_INTEGER,
      } as unknown as LayerRow);
    }
  }
  const fleetRow = layers.find((r) => r.key === 'fleet');
  const groups = new Map(layers.filter((r) => r.scope === 'group').map((r) => [r.group_id!, r]));
  const fleet = merge(layerOf(fleetRow));
  const out: Landscape['rows'] = new Map();
  for (const row of layers) {
    if (row.scope === 'fleet') out.set(row.key, { row, merged: fleet, groupId: null });
    else if (row.scope === 'group') out.set(row.key, { row, merged: merge(layerOf(fleetRow), layerOf(row)), groupId: row.group_id });
    else {
      const groupId = deviceGroups.get(row.device_id!) ?? null;
      out.set(row.key, {
        row,
        merged: merge(layerOf(fleetRow), layerOf(groupId ? groups.get(groupId) : undefined), layerOf(row)),
        groupId,
      });
    }
  }
  return { fleet, rows: out };
}

export const sameMerged = (a: Merged | undefined, b: Merged | undefined) =>
  (a?.set ?? false) === (b?.set ?? false) && canonicalJson(a?.document ?? {}) === canonicalJson(b?.document ?? {});

/**
 * Rules a schema cannot state: releases found, not bad, of the right package; a windowed update with
 * its window in order. Each is a 4xx with its own code, checked before anything is written.
 */
export async function checkDocument(doc: PolicyDocument, releases: ReleaseLookup, agentPackage: string): Promise<void> {
  const su = doc.systemUpdate;
  if (su?.type === 'windowed') {
    if (su.startMinute === undefined || su.endMinute === undefined) {
      throw badRequest('window_required', 'systemUpdate.type "windowed" needs startMinute and endMinute (minutes after midnight)');
    }
    if (su.endMinute <= su.startMinute) {
      throw badRequest('window_end_before_start', `systemUpdate.endMinute (${su.endMinute}) must be after startMinute (${su.startMinute})`);
    }
  } else if (su && (su.startMinute !== undefined || su.endMinute !== undefined)) {
    throw badRequest('window_unexpected', `systemUpdate.type "${su.type}" takes no startMinute/endMinute`);
  }
  const release = async (field: 'kioskApp' | 'agentRelease', id: string) => {
    try {
      return await releases.installable(id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'release_not_found')
        throw badRequest('release_not_found', `${field}: no release ${id} in the catalog`);
      if (err instanceof AppError && err.code === 'release_bad') throw conflict('release_bad', `${field}: release ${id} is marked bad`);
      throw err;
    }
  };
  if (doc.kioskApp) {
    const r = await release('kioskApp', doc.kioskApp.releaseId);
    if (r.packageName === agentPackage) {
      throw badRequest('release_package_mismatch', `kioskApp: release ${r.releaseId} is the agent (${agentPackage}), not a kiosk app`);
    }
  }
  if (doc.agentRelease) {
    const r = await release('agentRelease', doc.agentRelease.releaseId);
    if (r.packageName !== agentPackage) {
      throw badRequest(
        'release_package_mismatch',
        `agentRelease: release ${r.releaseId} is of ${r.packageName}, not the agent package ${agentPackage}`,
      );
    }
  }
}

/** The document a device gets: release references resolved to what an install needs (a release gone bad since: its id only). */
export async function resolve(doc: PolicyDocument, releases: ReleaseLookup, db: Db, cache = new Map<string, ResolvedRelease | null>()) {
  const one = async (id: string) => {
    if (!cache.has(id)) cache.set(id, await releases.installable(id, db).catch(() => null));
    return cache.get(id) ?? { releaseId: id };
  };
  const out: Record<string, unknown> = { ...doc };
  if (doc.kioskApp) out.kioskApp = await one(doc.kioskApp.releaseId);
  if (doc.agentRelease) out.agentRelease = await one(doc.agentRelease.releaseId);
  return out as EffectiveDocument;
}

/**
 * Brings every row's effective document, hash and version up to date (in the caller's transaction,
 * after it took the policy lock). Rows are few (one per group with a policy and per override), so
 * recomputing all of them on each save is simpler than tracking which depend on which; only rows that
 * changed are written. Returns how many.
 */
export async function recomputeAll(trx: Transaction<Database> | Db, releases: ReleaseLookup): Promise<number> {
  const rows = await allLayers(trx);
  const devices = await groupsOf(
    trx,
    rows.filter((r) => r.scope === 'device').map((r) => r.device_id!),
  );
  const { rows: computed } = landscape(rows, devices);
  const cache = new Map<string, ResolvedRelease | null>();
  let written = 0;
  for (const { row, merged, groupId } of computed.values()) {
    const effective = merged.set ? await resolve(merged.document, releases, trx, cache) : {};
    const hash = merged.set ? policyHash(effective) : null;
    if (hash === row.effective_hash && merged.version === Number(row.effective_version) && groupId === row.effective_group_id) continue;
    await setEffective(trx as Transaction<Database>, row.key, { effective, hash, version: merged.version, groupId });
    written++;
  }
  return written;
}
