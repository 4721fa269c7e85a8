import type { Clock } from '../core/clock.js';
import { decrypt } from '../core/crypto.js';
import { conflict, notFound } from '../core/errors.js';
import type { DeviceActor } from '../core/route.js';
import { signEnvelope, unixSeconds } from '../commands/index.js';
import type { Db } from '../ports/db.js';
import { recomputeAll, type ReleaseLookup } from './effective.js';
import { canonicalJson } from './policy-document.js';
import * as repo from './policies.repository.js';
import type { ComplianceQuery, ReportBody } from './policies.schemas.js';

/** The device protocol's version: v2 added the policy fields (docs/protocol.md); v1 agents ignore them. */
export const PROTOCOL_VERSION = 2;

/** The command type a policy envelope carries: never a command, so a command path refuses it as unknown. */
export const POLICY_TYPE = 'POLICY';

export interface ConvergenceOptions {
  encryptionKey: Buffer;
  /** How long a signed policy document is accepted by the device. */
  envelopeTtlSec: number;
}

export type ComplianceState = 'compliant' | 'pending' | 'failed';
export const COMPLIANCE_STATES: readonly ComplianceState[] = ['compliant', 'pending', 'failed'];

/**
 * The device side of policies and what operators see of it: the signed effective document a device
 * fetches when its heartbeat answer's hash differs from what it applied, the report it sends back
 * (one row per device, the latest wins), and the compliance state read from both.
 */
export class ConvergenceService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly releases: ReleaseLookup,
    private readonly options: ConvergenceOptions,
  ) {}

  /**
   * The device's effective policy as a signed envelope (type POLICY, cid = the hash, params = the
   * canonical JSON). An override computed for a group the device has left is recomputed first.
   */
  async fetch(device: DeviceActor) {
    const d = await repo.findDevice(this.db, device.deviceId);
    if (!d) throw notFound('device');
    let eff = await repo.effectiveOf(this.db, device.deviceId);
    if (eff?.key.startsWith('d:') && eff.effective_group_id !== eff.group_id) {
      await this.db.transaction().execute(async (trx) => {
        await repo.lockPolicies(trx);
        await recomputeAll(trx, this.releases);
      });
      eff = await repo.effectiveOf(this.db, device.deviceId);
    }
    if (!eff?.effective_hash) return { protocolVersion: PROTOCOL_VERSION, version: 0, hash: null, envelope: null };
    const now = this.clock.now();
    const envelope = signEnvelope(decrypt(this.options.encryptionKey, d.hmac_key_enc), {
      cid: eff.effective_hash,
      did: device.deviceId,
      type: POLICY_TYPE,
      params: canonicalJson(eff.effective),
      iat: unixSeconds(now),
      exp: unixSeconds(now) + this.options.envelopeTtlSec,
    });
    return { protocolVersion: PROTOCOL_VERSION, version: Number(eff.effective_version), hash: eff.effective_hash, envelope };
  }

  /** Stores the device's report (replacing its previous one) and answers with the state it puts the device in. */
  async report(device: DeviceActor, body: ReportBody) {
    const d = await repo.findDevice(this.db, device.deviceId);
    if (!d) throw notFound('device');
    if (d.lifecycle === 'retired') throw conflict('device_retired', 'this device was retired');
    await repo.upsertReport(this.db, {
      deviceId: device.deviceId,
      hash: body.hash,
      items: body.items,
      failed: body.items.filter((i) => i.status === 'failed').length,
      unsupported: body.items.filter((i) => i.status === 'unsupported').length,
      appliedAt: body.appliedAt ? new Date(body.appliedAt) : null,
      receivedAt: this.clock.now(),
    });
    return this.deviceState(device.deviceId);
  }

  private async deviceState(deviceId: string) {
    const eff = await repo.effectiveOf(this.db, deviceId);
    const report = await repo.findReport(this.db, deviceId);
    const hash = eff?.effective_hash ?? null;
    const state: ComplianceState = (await repo.complianceOf(this.db, deviceId)) ?? 'pending';
    return { state, hash, version: eff ? Number(eff.effective_version) : 0, report };
  }

  /** A device's compliance: its state, the effective and reported hashes, and the items not applied with their reasons. */
  async device(deviceId: string) {
    if (!(await repo.findDevice(this.db, deviceId))) throw notFound('device');
    const { state, hash, version, report } = await this.deviceState(deviceId);
    const items = (report?.items ?? []) as ReportBody['items'];
    return {
      deviceId,
      state,
      effective: { version, hash },
      reported: report
        ? { hash: report.hash, appliedAt: report.applied_at, receivedAt: report.received_at, current: report.hash === hash }
        : null,
      items,
      nonCompliant: items.filter((i) => i.status !== 'applied'),
    };
  }

  async list(q: ComplianceQuery) {
    const rows = await repo.listCompliance(this.db, { ...q, limit: q.limit + 1, after: q.cursor });
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({
        deviceId: r.id,
        displayName: r.name ?? [r.model, r.serial].filter(Boolean).join(' '),
        group: r.group_id ? { id: r.group_id, name: r.group_name ?? '' } : null,
        state: r.state,
        effectiveHash: r.effective_hash,
        reportedHash: r.reported_hash,
        failedItems: r.failed ?? 0,
        reportedAt: r.received_at,
      })),
      nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  /** Compliant / pending / failed per group (group null: devices without one), for the fleet page. */
  async summary() {
    const rows = await repo.complianceCounts(this.db);
    const groups = new Map<string, { groupId: string | null; group: string | null; compliant: number; pending: number; failed: number }>();
    for (const r of rows) {
      const k = r.group_id ?? '';
      const g = groups.get(k) ?? { groupId: r.group_id, group: r.group_name, compliant: 0, pending: 0, failed: 0 };
      g[r.state as ComplianceState] += r.n;
      groups.set(k, g);
    }
    const items = [...groups.values()].sort((a, b) => (a.group ?? '').localeCompare(b.group ?? ''));
    const total = { compliant: 0, pending: 0, failed: 0 };
    for (const g of items) for (const s of COMPLIANCE_STATES) total[s] += g[s];
    return { total, groups: items };
  }

  /** The gauges' numbers: devices by group name ('' for none) and state. */
  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const r of await repo.complianceCounts(this.db)) (out[r.group_name ?? ''] ??= {})[r.state] = r.n;
    return out;
  }
}
