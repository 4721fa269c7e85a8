import { createHash } from 'node:crypto';
import { EnvelopeVerifier } from './envelope.js';
import { isRecord } from './http-client.js';
import { ReplayStore } from './replay-store.js';

/**
 * The device side of policies (device protocol v2, docs/protocol.md#policies), written from the
 * protocol text: a policy arrives as an envelope signed like a command (type "POLICY", cid = the
 * hash, params = the canonical JSON of the document). It is verified like a command - addressee,
 * signature, times - but never remembered as a replay: fetching the same document again is normal,
 * and applying it is idempotent. Then the cid must be the SHA-256 of the params.
 */
export type PolicyRejectReason =
  | 'malformed'
  | 'unsupported_version'
  | 'wrong_device'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_params'
  | 'wrong_type'
  | 'hash_mismatch';

export type PolicyVerdict = { ok: true; hash: string; document: Record<string, unknown> } | { ok: false; reason: PolicyRejectReason };

export function verifyPolicy(deviceId: string, hmacKey: string, raw: unknown, nowSec: number): PolicyVerdict {
  const verdict = new EnvelopeVerifier(deviceId, hmacKey, new ReplayStore()).verify(raw, nowSec);
  if (!verdict.ok) return { ok: false, reason: verdict.reason as PolicyRejectReason };
  const e = verdict.envelope;
  if (e.type !== 'POLICY') return { ok: false, reason: 'wrong_type' };
  if (createHash('sha256').update(e.params, 'utf8').digest('hex') !== e.cid) return { ok: false, reason: 'hash_mismatch' };
  return { ok: true, hash: e.cid, document: verdict.params };
}

export type ItemStatus = 'applied' | 'failed' | 'unsupported';
export interface ReportItem {
  item: string;
  status: ItemStatus;
  reason?: string;
}

/** Tells a share of the devices that a policy item fails, or is unsupported on their API level (for tests). */
export interface PolicyFaults {
  failed?: { item: string; share: number } | undefined;
  unsupported?: { item: string; share: number } | undefined;
}

/**
 * Applies a verified document to a simulated device: every item it sets is applied, except the one
 * the faults name for this device. Which devices fail is decided per device from its id (not from
 * the fleet's random stream, which stays as it was), so a device fails the same item on every attempt.
 */
export class PolicyApplier {
  readonly #failRoll: number;
  readonly #unsupportedRoll: number;
  /** The hash of the document last applied and reported; the heartbeat carries it. */
  appliedHash: string | null = null;
  applied: Record<string, unknown> = {};

  constructor(
    deviceId: string,
    private readonly faults: PolicyFaults = {},
  ) {
    this.#failRoll = roll(`${deviceId}:failed`);
    this.#unsupportedRoll = roll(`${deviceId}:unsupported`);
  }

  apply(document: Record<string, unknown>): ReportItem[] {
    const { failed, unsupported } = this.faults;
    return Object.keys(document)
      .sort()
      .map((item): ReportItem => {
        if (unsupported && unsupported.item === item && this.#unsupportedRoll < unsupported.share) {
          return { item, status: 'unsupported', reason: 'not supported on this API level (simulated)' };
        }
        if (failed && failed.item === item && this.#failRoll < failed.share) return { item, status: 'failed', reason: 'simulated failure' };
        this.applied[item] = document[item];
        return { item, status: 'applied' };
      });
  }
}

/** A number in [0, 1) fixed by the text. */
const roll = (text: string) => createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;

/** The heartbeat answer's `policy` (v2): what the device should have applied; null or absent: nothing. */
export function parsePolicyRef(body: unknown): { version: number; hash: string } | null {
  if (!isRecord(body) || !isRecord(body.policy)) return null;
  const { version, hash } = body.policy;
  return typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) && typeof version === 'number' ? { version, hash } : null;
}
