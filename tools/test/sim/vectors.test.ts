import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvelopeVerifier } from '../../src/sim/envelope.js';

/** The shared envelope vectors (android-agent/core/src/test/resources/vectors), checked by the simulator's own verifier. */
const vectors = JSON.parse(
  readFileSync(new URL('../../../android-agent/core/src/test/resources/vectors/envelopes.json', import.meta.url), 'utf8'),
) as {
  devices: Record<string, { deviceId: string; hmacKey: string }>;
  valid: { name: string; device: string; now: number; envelope: unknown }[];
  invalid: { name: string; device: string; now: number; envelope: unknown; reason: string }[];
  replay: { name: string; device: string; now: number; envelopes: unknown[]; expect: string[] }[];
};

const verifier = (device: string) => new EnvelopeVerifier(vectors.devices[device]!.deviceId, vectors.devices[device]!.hmacKey);

describe('the simulator verifier on the shared vectors', () => {
  it.each(vectors.valid)('accepts $name', ({ device, now, envelope }) => {
    expect(verifier(device).verify(envelope, now).ok).toBe(true);
  });

  it.each(vectors.invalid)('rejects $name as $reason', ({ device, now, envelope, reason }) => {
    const verdict = verifier(device).verify(envelope, now);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toBe(reason);
  });

  it.each(vectors.replay)('$name', ({ device, now, envelopes, expect: outcomes }) => {
    const v = verifier(device);
    expect(
      envelopes.map((e) => {
        const verdict = v.verify(e, now);
        return verdict.ok ? 'accept' : verdict.reason;
      }),
    ).toEqual(outcomes);
  });
});
