import { createHmac, timingSafeEqual } from 'node:crypto';
import { isRecord } from './http-client.js';
import type { RejectReason } from './stats.js';
import { ReplayStore } from './replay-store.js';

/**
 * The device side of signed commands (docs/protocol.md, "Command envelopes"), written from the
 * protocol text and not from the server's code, so the two implementations check each other.
 */
export interface Envelope {
  v: string;
  cid: string;
  did: string;
  type: string;
  params: string;
  iat: string;
  exp: string;
  sig: string;
}

export const ENVELOPE_FIELDS = ['v', 'cid', 'did', 'type', 'params', 'iat', 'exp', 'sig'] as const;
const SIGNING_PREFIX = 'mdm-cmd-v1';
/** Device clocks drift; an envelope is honoured this long past `exp` and this early before `iat`. */
export const CLOCK_SKEW_SEC = 60;
/** base64url without padding of a 32-byte HMAC-SHA256. */
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
/** FCM data messages are limited to 4 KB in all; anything longer did not come from the server. */
const MAX_FIELD_LENGTH = 8192;

export type Verdict =
  | { ok: true; envelope: Envelope; params: Record<string, unknown> }
  /** `cid` is set when the envelope named this device, so the rejection can be reported for it. */
  | { ok: false; reason: RejectReason; cid: string | undefined };

/** The exact bytes that are signed. Exported for tests and a future device implementation. */
export function signingInput(e: Omit<Envelope, 'v' | 'sig'>): string {
  return [SIGNING_PREFIX, e.cid, e.did, e.type, e.params, e.iat, e.exp].join('\n');
}

/** How long a cancelled cid is remembered: the longest a command lives (30 days). */
const CANCEL_MEMORY_SEC = 30 * 86_400;

export class EnvelopeVerifier {
  readonly #key: Buffer;

  /** `hmacKey` is the base64 key from the enrollment answer. */
  constructor(
    private readonly deviceId: string,
    hmacKey: string,
    private readonly replays: ReplayStore = new ReplayStore(),
  ) {
    this.#key = Buffer.from(hmacKey, 'base64');
  }

  /**
   * Checks in an order that never acts on unauthenticated content: shape, version, addressee,
   * signature, then the signed times, replay and params. A verdict of ok records the cid, so the
   * same envelope arriving again (by heartbeat and later by push) is refused.
   */
  verify(raw: unknown, nowSec: number): Verdict {
    const envelope = asEnvelope(raw);
    if (!envelope) return reject('malformed', undefined);
    const mine = envelope.did === this.deviceId ? envelope.cid : undefined;
    if (envelope.v !== '1') return reject('unsupported_version', mine);
    if (envelope.did !== this.deviceId) return reject('wrong_device', undefined);
    if (!this.#signatureValid(envelope)) return reject('bad_signature', mine);
    if (!UNIX_SECONDS.test(envelope.iat) || !UNIX_SECONDS.test(envelope.exp)) return reject('malformed', mine);
    const iat = Number(envelope.iat);
    const exp = Number(envelope.exp);
    if (exp < iat) return reject('malformed', mine);
    if (exp + CLOCK_SKEW_SEC < nowSec) return reject('expired', mine);
    if (iat - CLOCK_SKEW_SEC > nowSec) return reject('not_yet_valid', mine);
    const params = parseParams(envelope.params);
    if (!params) return reject('bad_params', mine);
    const remembered = this.replays.remember(envelope.cid, exp + CLOCK_SKEW_SEC, nowSec);
    if (remembered !== 'new') return reject(remembered === 'seen' ? 'replayed' : 'replay_store_full', mine);
    return { ok: true, envelope, params };
  }

  /**
   * Marks a command the server cancelled as never to run: the cid goes into the replay store, so its
   * envelope is refused as a replay whenever it arrives. 'new' when it had not run (nor been refused).
   */
  forbid(cid: string, nowSec: number): 'new' | 'seen' | 'full' {
    return this.replays.remember(cid, nowSec + CANCEL_MEMORY_SEC, nowSec);
  }

  #signatureValid(e: Envelope): boolean {
    if (!SIG_PATTERN.test(e.sig)) return false;
    const expected = createHmac('sha256', this.#key).update(signingInput(e), 'utf8').digest('base64url');
    // Comparing the canonical encodings (not decoded bytes) also refuses a sig whose unused low bits
    // in the last character were altered, which Buffer.from(.., 'base64url') would silently accept.
    return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(e.sig, 'latin1'));
  }
}

function reject(reason: RejectReason, cid: string | undefined): Verdict {
  return { ok: false, reason, cid };
}

/** Every field present and a string (the envelope is also an FCM data message: strings only). */
function asEnvelope(raw: unknown): Envelope | null {
  if (!isRecord(raw)) return null;
  // Copies only the known fields, so nothing else the sender attached travels further.
  const envelope: Partial<Envelope> = {};
  for (const field of ENVELOPE_FIELDS) {
    const value = raw[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD_LENGTH) return null;
    envelope[field] = value;
  }
  return envelope as Envelope;
}

function parseParams(params: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(params);
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
