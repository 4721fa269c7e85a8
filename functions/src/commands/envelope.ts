import { createHmac } from 'node:crypto';
import type { Envelope } from './commands.schemas.js';

/**
 * Command envelopes, exactly as docs/protocol.md specifies: every value a string (they travel as FCM
 * data messages), `sig` = base64url without padding of HMAC-SHA256(base64-decoded hmacKey,
 * "mdm-cmd-v1\n" + cid + "\n" + did + "\n" + type + "\n" + params + "\n" + iat + "\n" + exp).
 */
export interface UnsignedEnvelope {
  cid: string;
  did: string;
  type: string;
  /** The params as the exact JSON text that is signed. */
  params: string;
  iat: number;
  exp: number;
}

export function signingInput(e: UnsignedEnvelope): string {
  return ['mdm-cmd-v1', e.cid, e.did, e.type, e.params, String(e.iat), String(e.exp)].join('\n');
}

export function signEnvelope(hmacKey: Buffer, e: UnsignedEnvelope): Envelope {
  const sig = createHmac('sha256', hmacKey).update(signingInput(e), 'utf8').digest('base64url');
  return { v: '1', cid: e.cid, did: e.did, type: e.type, params: e.params, iat: String(e.iat), exp: String(e.exp), sig };
}

/** Unix seconds, as envelopes carry them. */
export const unixSeconds = (d: Date) => Math.floor(d.getTime() / 1000);
