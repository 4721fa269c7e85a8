import { createHmac, randomBytes, randomUUID } from 'node:crypto';

/**
 * Builds command envelopes the way the server is specified to (docs/protocol.md), with its own
 * HMAC code: the simulator's verifier is tested against this, not against itself.
 */
export interface TestEnvelope {
  v: string;
  cid: string;
  did: string;
  type: string;
  params: string;
  iat: string;
  exp: string;
  sig: string;
}

export const newHmacKey = (): string => randomBytes(32).toString('base64');

export function sign(e: Omit<TestEnvelope, 'v' | 'sig'>, hmacKeyBase64: string): string {
  const message = `mdm-cmd-v1\n${e.cid}\n${e.did}\n${e.type}\n${e.params}\n${e.iat}\n${e.exp}`;
  return createHmac('sha256', Buffer.from(hmacKeyBase64, 'base64'))
    .update(message)
    .digest('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export interface EnvelopeSpec {
  did: string;
  key: string;
  type?: string;
  params?: unknown;
  nowSec?: number;
  ttlSec?: number;
  cid?: string;
}

export function envelope(spec: EnvelopeSpec): TestEnvelope {
  const now = spec.nowSec ?? Math.floor(Date.now() / 1000);
  const fields = {
    cid: spec.cid ?? randomUUID(),
    did: spec.did,
    type: spec.type ?? 'PING',
    params: JSON.stringify(spec.params ?? {}),
    iat: String(now),
    exp: String(now + (spec.ttlSec ?? 3600)),
  };
  return { v: '1', ...fields, sig: sign(fields, spec.key) };
}
