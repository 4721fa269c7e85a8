import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SEC, ENVELOPE_FIELDS, EnvelopeVerifier } from '../../src/sim/envelope.js';
import { ReplayStore } from '../../src/sim/replay-store.js';
import { envelope, newHmacKey, sign, type TestEnvelope } from './helpers/envelopes.js';

const DID = randomUUID();
const KEY = newHmacKey();
const NOW = 1_780_000_000;

const verifier = () => new EnvelopeVerifier(DID, KEY);
const valid = (overrides: Partial<Parameters<typeof envelope>[0]> = {}) =>
  envelope({ did: DID, key: KEY, nowSec: NOW, type: 'REBOOT', params: { delaySec: 0 }, ...overrides });

/**
 * A different value for each signed field that still looks well-formed, so only the signature can
 * catch it. (A changed did is caught as misaddressed first: its own test below.)
 */
const TAMPERED: Record<Exclude<keyof TestEnvelope, 'v' | 'did'>, (e: TestEnvelope) => string> = {
  cid: () => randomUUID(),
  type: () => 'WIPE',
  params: () => JSON.stringify({ delaySec: 60 }),
  iat: (e) => String(Number(e.iat) - 10),
  exp: (e) => String(Number(e.exp) + 86_400),
  sig: (e) => (e.sig.startsWith('A') ? 'B' : 'A') + e.sig.slice(1),
};

describe('EnvelopeVerifier', () => {
  it('accepts a valid envelope and hands over its params', () => {
    const verdict = verifier().verify(valid(), NOW);
    expect(verdict).toMatchObject({ ok: true, envelope: { type: 'REBOOT' }, params: { delaySec: 0 } });
  });

  it.each(['cid', 'type', 'params', 'iat', 'exp', 'sig'] as const)('rejects an envelope whose %s was changed', (field) => {
    const e = valid();
    const tampered = { ...e, [field]: TAMPERED[field](e) };
    expect(tampered[field]).not.toBe(e[field]);
    expect(verifier().verify(tampered, NOW)).toMatchObject({ ok: false, reason: 'bad_signature', cid: tampered.cid });
  });

  it('rejects an envelope whose did was changed (to another device, or to this one)', () => {
    const other = valid({ did: randomUUID() });
    expect(verifier().verify(other, NOW)).toEqual({ ok: false, reason: 'wrong_device', cid: undefined });
    // Signed for another device, then re-addressed to this one: the signature no longer matches.
    expect(verifier().verify({ ...other, did: DID }, NOW)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature whose last character differs only in the unused low bits', () => {
    const e = valid();
    // 43 base64url chars carry 258 bits for 256: the last char's 2 low bits are padding.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(e.sig.at(-1)!);
    const sibling = e.sig.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(sibling, 'base64url')).toEqual(Buffer.from(e.sig, 'base64url'));
    expect(verifier().verify({ ...e, sig: sibling }, NOW)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rejects an envelope signed with another key', () => {
    const e = envelope({ did: DID, key: newHmacKey(), nowSec: NOW });
    expect(verifier().verify(e, NOW)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rejects an expired envelope, allowing for clock skew', () => {
    const e = valid({ ttlSec: 300 });
    const exp = NOW + 300;
    expect(verifier().verify(e, exp + CLOCK_SKEW_SEC).ok).toBe(true);
    expect(verifier().verify(e, exp + CLOCK_SKEW_SEC + 1)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifier().verify(e, exp + 86_400)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('rejects an envelope issued too far in the future', () => {
    const e = valid({ nowSec: NOW + CLOCK_SKEW_SEC + 1 });
    expect(verifier().verify(e, NOW)).toMatchObject({ ok: false, reason: 'not_yet_valid' });
    expect(verifier().verify(valid({ nowSec: NOW + CLOCK_SKEW_SEC }), NOW).ok).toBe(true);
  });

  it('rejects a replayed envelope: the first is accepted, the second not', () => {
    const v = verifier();
    const e = valid();
    expect(v.verify(e, NOW).ok).toBe(true);
    expect(v.verify(e, NOW + 5)).toEqual({ ok: false, reason: 'replayed', cid: e.cid });
    // A fresh envelope is still welcome.
    expect(v.verify(valid(), NOW + 5).ok).toBe(true);
  });

  it('remembers cids per device: another device may execute the same cid once', () => {
    const cid = randomUUID();
    const otherDid = randomUUID();
    const otherKey = newHmacKey();
    expect(verifier().verify(valid({ cid }), NOW).ok).toBe(true);
    const other = new EnvelopeVerifier(otherDid, otherKey);
    expect(other.verify(envelope({ did: otherDid, key: otherKey, nowSec: NOW, cid }), NOW).ok).toBe(true);
  });

  it.each([...ENVELOPE_FIELDS])('rejects an envelope without %s as malformed', (field) => {
    const e: Record<string, string> = { ...valid() };
    delete e[field];
    expect(verifier().verify(e, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('rejects non-objects and non-string fields as malformed', () => {
    for (const raw of [null, 'envelope', 42, [valid()], { ...valid(), iat: NOW }, { ...valid(), v: 1 }]) {
      expect(verifier().verify(raw, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });

  it('rejects another protocol version even when correctly signed', () => {
    expect(verifier().verify({ ...valid(), v: '2' }, NOW)).toMatchObject({ ok: false, reason: 'unsupported_version' });
  });

  it.each([
    ['standard base64 characters', (sig: string) => sig.slice(0, -2) + '+/'],
    ['padding', (sig: string) => sig + '='],
    ['a truncated value', (sig: string) => sig.slice(0, -1)],
    ['non-base64 text', () => 'not a signature at all, not at all, no no no!'],
  ])('rejects a signature with %s', (_name, mangle) => {
    const e = valid();
    expect(verifier().verify({ ...e, sig: mangle(e.sig) }, NOW)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it.each(['not json', '[1,2]', '"text"', 'null', '{"a":'])('rejects signed params that are not a JSON object: %s', (params) => {
    const fields = { cid: randomUUID(), did: DID, type: 'PING', params, iat: String(NOW), exp: String(NOW + 60) };
    const e = { v: '1', ...fields, sig: sign(fields, KEY) };
    expect(verifier().verify(e, NOW)).toMatchObject({ ok: false, reason: 'bad_params', cid: fields.cid });
  });

  it('rejects signed times that are not Unix seconds, or exp before iat', () => {
    for (const [iat, exp] of [
      ['soon', String(NOW + 60)],
      [String(NOW), '1e12'],
      [String(NOW), String(NOW - 1)],
    ] as const) {
      const fields = { cid: randomUUID(), did: DID, type: 'PING', params: '{}', iat, exp };
      const e = { v: '1', ...fields, sig: sign(fields, KEY) };
      expect(verifier().verify(e, NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });

  it('does not burn a cid on a rejected envelope', () => {
    const v = verifier();
    const e = valid();
    expect(v.verify({ ...e, params: '{"x":1}' }, NOW).ok).toBe(false);
    expect(v.verify(e, NOW).ok).toBe(true);
  });
});

describe('ReplayStore', () => {
  it('keeps every cid while its envelope could still be valid, however many arrive', () => {
    const store = new ReplayStore(10, 100);
    for (let i = 0; i < 50; i++) expect(store.remember(`c${i}`, NOW + 1000, NOW)).toBe('new');
    for (let i = 0; i < 50; i++) expect(store.remember(`c${i}`, NOW + 1000, NOW)).toBe('seen');
  });

  it('forgets expired cids but always keeps the most recent ones', () => {
    const store = new ReplayStore(10, 100);
    for (let i = 0; i < 30; i++) store.remember(`c${i}`, NOW, NOW - 10);
    // All 30 have expired by NOW + 1; adding more prunes down to the 10 most recent.
    store.remember('fresh', NOW + 1000, NOW + 1);
    expect(store.size).toBe(10);
    expect(store.has('c29')).toBe(true);
    expect(store.has('c21')).toBe(true);
    expect(store.has('c20')).toBe(false);
    expect(store.has('fresh')).toBe(true);
  });

  it('fails closed when full of cids that are still valid', () => {
    const store = new ReplayStore(2, 5);
    for (let i = 0; i < 5; i++) store.remember(`c${i}`, NOW + 1000, NOW);
    expect(store.remember('one-too-many', NOW + 1000, NOW)).toBe('full');
    expect(store.has('c0')).toBe(true);
  });

  it('keeps at least the last 1,000 cids by default', () => {
    const store = new ReplayStore();
    for (let i = 0; i < 1500; i++) store.remember(`c${i}`, NOW - 1, NOW);
    expect(store.size).toBe(1000);
    expect(store.remember('c1499', NOW - 1, NOW)).toBe('seen');
    expect(store.remember('c500', NOW - 1, NOW)).toBe('seen');
  });
});
