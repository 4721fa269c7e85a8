import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signEnvelope, signingInput } from './envelope.js';

/** The shared vectors the simulator and the Kotlin agent check too. */
const vectors = JSON.parse(
  readFileSync(new URL('../../../android-agent/core/src/test/resources/vectors/envelopes.json', import.meta.url), 'utf8'),
) as {
  devices: Record<string, { deviceId: string; hmacKey: string }>;
  valid: { name: string; device: string; signingInput: string; envelope: Record<string, string> }[];
  invalid: { name: string; device: string; envelope: Record<string, string>; reason: string }[];
};

const resign = (device: string, e: Record<string, string>) =>
  signEnvelope(Buffer.from(vectors.devices[device]!.hmacKey, 'base64'), {
    cid: e.cid!,
    did: e.did!,
    type: e.type!,
    params: e.params!,
    iat: Number(e.iat),
    exp: Number(e.exp),
  });

describe('command envelope signing against the shared test vectors', () => {
  it.each(vectors.valid)('signs "$name" to the expected envelope', ({ device, envelope, signingInput: input }) => {
    const e = {
      cid: envelope.cid!,
      did: envelope.did!,
      type: envelope.type!,
      params: envelope.params!,
      iat: Number(envelope.iat),
      exp: Number(envelope.exp),
    };
    expect(signingInput(e)).toBe(input);
    expect(resign(device, envelope)).toEqual(envelope);
  });

  it.each(vectors.invalid.filter((c) => c.reason === 'bad_signature'))(
    'does not produce the signature of "$name"',
    ({ device, envelope }) => {
      expect(resign(device, envelope).sig).not.toBe(envelope.sig);
    },
  );

  it('has vectors for each kind of rejection', () => {
    expect(new Set(vectors.invalid.map((c) => c.reason))).toEqual(
      new Set(['bad_signature', 'wrong_device', 'expired', 'not_yet_valid', 'unsupported_version', 'malformed', 'bad_params']),
    );
  });
});
