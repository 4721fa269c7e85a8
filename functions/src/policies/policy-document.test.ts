import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signEnvelope } from '../commands/index.js';
import { canonicalJson, diffDocuments, isTimeZone, mergeLayers, policyDocument, policyHash } from './policy-document.js';

const vectors = JSON.parse(readFileSync(new URL('../../../docs/vectors/policy.json', import.meta.url), 'utf8')) as {
  device: { deviceId: string; hmacKey: string };
  now: number;
  ttlSec: number;
  document: unknown;
  canonical: string;
  hash: string;
  envelope: Record<string, string>;
  tampered: { name: string; envelope: Record<string, string>; reject: string }[];
};

describe('policy documents', () => {
  it('has one canonical text per value: keys sorted at every depth, no whitespace, undefined dropped', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 'é' }], c: true }, u: undefined })).toBe(
      '{"a":{"c":true,"d":[3,{"y":"é","z":1}]},"b":1}',
    );
    expect(policyHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('matches docs/vectors/policy.json: canonical JSON, hash and signed envelope', () => {
    expect(canonicalJson(vectors.document)).toBe(vectors.canonical);
    expect(policyHash(vectors.document)).toBe(vectors.hash);
    expect(policyDocument.safeParse(vectors.document).success).toBe(false); // resolved releases: not an editable document
    const env = signEnvelope(Buffer.from(vectors.device.hmacKey, 'base64'), {
      cid: vectors.hash,
      did: vectors.device.deviceId,
      type: 'POLICY',
      params: vectors.canonical,
      iat: vectors.now,
      exp: vectors.now + vectors.ttlSec,
    });
    expect(env).toEqual(vectors.envelope);
  });

  it('merges field by field: a later layer replaces a field whole, lists and maps included', () => {
    expect(
      mergeLayers<Record<string, unknown>>(
        { screenTimeoutSec: 60, userRestrictions: ['no_safe_boot', 'no_add_user'], timeZone: 'UTC' },
        { userRestrictions: ['no_factory_reset'] },
        { timeZone: 'Europe/Berlin', kioskPermissions: undefined },
      ),
    ).toEqual({ screenTimeoutSec: 60, userRestrictions: ['no_factory_reset'], timeZone: 'Europe/Berlin' });
  });

  it('diffs by path', () => {
    expect(
      diffDocuments(
        { screenTimeoutSec: 60, systemUpdate: { type: 'automatic' }, userRestrictions: ['no_safe_boot'] },
        { screenTimeoutSec: 120, systemUpdate: { type: 'windowed', startMinute: 60, endMinute: 120 }, keyguardDisabled: true },
      ),
    ).toEqual([
      { path: 'keyguardDisabled', op: 'added', to: true },
      { path: 'screenTimeoutSec', op: 'changed', from: 60, to: 120 },
      { path: 'systemUpdate.endMinute', op: 'added', to: 120 },
      { path: 'systemUpdate.startMinute', op: 'added', to: 60 },
      { path: 'systemUpdate.type', op: 'changed', from: 'automatic', to: 'windowed' },
      { path: 'userRestrictions', op: 'removed', from: ['no_safe_boot'] },
    ]);
    expect(diffDocuments({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
  });

  it('refuses unknown fields, unknown restrictions and unknown time zones', () => {
    expect(policyDocument.safeParse({ screenTimeout: 5 }).success).toBe(false);
    const bad = policyDocument.safeParse({ userRestrictions: ['no_safe_boot', 'no_fun'] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('no_factory_reset');
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(policyDocument.safeParse({ timeZone: 'Mars/Olympus' }).success).toBe(false);
    expect(policyDocument.safeParse({ kioskPermissions: { 'android.permission.CAMERA': 'grant' } }).success).toBe(true);
    expect(policyDocument.safeParse({ kioskPermissions: { 'android.permission.CAMERA': 'maybe' } }).success).toBe(false);
  });
});
