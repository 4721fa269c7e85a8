import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, decrypt, deriveKey, encrypt, randomSecret, sha256Hex } from './crypto.js';

const key = Buffer.alloc(32, 0x42);

/** Flips one bit in the decoded bytes of part `index` of a sealed `v1.iv.tag.ciphertext` string. */
function flip(sealed: string, index: number, byte = 0): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[byte] = bytes[byte]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('encrypt / decrypt', () => {
  it('round-trips arbitrary bytes, including an empty buffer', () => {
    const plaintext = randomBytes(100);
    expect(decrypt(key, encrypt(key, plaintext)).equals(plaintext)).toBe(true);
    expect(decrypt(key, encrypt(key, Buffer.alloc(0)))).toHaveLength(0);
  });

  it('writes v1.<iv>.<tag>.<ciphertext> in base64url with a 12-byte IV and 16-byte tag', () => {
    const sealed = encrypt(key, Buffer.from('hello world'));
    const [format, iv, tag, ciphertext, ...rest] = sealed.split('.');
    expect(format).toBe('v1');
    expect(rest).toEqual([]);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(11);
    expect(sealed).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(sealed).not.toContain('hello');
  });

  it('gives a different output for each encryption of the same plaintext', () => {
    const plaintext = Buffer.from('same secret');
    const a = encrypt(key, plaintext);
    const b = encrypt(key, plaintext);
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(decrypt(key, a).toString()).toBe('same secret');
    expect(decrypt(key, b).toString()).toBe('same secret');
  });

  it.each([
    ['iv', 1],
    ['tag', 2],
    ['ciphertext', 3],
  ])('throws when a byte of the %s is flipped', (_name, index) => {
    const sealed = encrypt(key, Buffer.from('device hmac key material'));
    expect(() => decrypt(key, sealed)).not.toThrow();
    expect(() => decrypt(key, flip(sealed, index))).toThrow();
    expect(() => decrypt(key, flip(sealed, index, 5))).toThrow();
  });

  it('throws with the wrong key', () => {
    const sealed = encrypt(key, Buffer.from('secret'));
    expect(() => decrypt(Buffer.alloc(32, 0x43), sealed)).toThrow();
  });

  // A GCM tag cut to 4 bytes is still a valid prefix; accepting it cuts forgery resistance to 2^-32.
  it.each([4, 8, 12])('rejects the authentication tag truncated to %i bytes', (bytes) => {
    const parts = encrypt(key, Buffer.from('secret')).split('.');
    parts[2] = Buffer.from(parts[2]!, 'base64url').subarray(0, bytes).toString('base64url');
    expect(() => decrypt(key, parts.join('.'))).toThrow();
  });

  it('rejects an otherwise valid value with another format version', () => {
    const sealed = encrypt(key, Buffer.from('secret'));
    expect(() => decrypt(key, `v2${sealed.slice(2)}`)).toThrow('unknown sealed format');
  });

  it.each(['', 'garbage', 'v2.a.b.c', 'v1..b.c', 'v1.a..c', 'v1.a.b'])('rejects the malformed input %j', (sealed) => {
    expect(() => decrypt(key, sealed)).toThrow();
  });
});

describe('randomSecret', () => {
  it('is base64url without padding, 43 characters for the default 32 bytes', () => {
    const s = randomSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s, 'base64url')).toHaveLength(32);
  });

  it('honours the byte count', () => {
    expect(randomSecret(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(randomSecret(48), 'base64url')).toHaveLength(48);
  });

  it('does not repeat', () => {
    const seen = new Set(Array.from({ length: 200 }, () => randomSecret()));
    expect(seen.size).toBe(200);
  });
});

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes the UTF-8 bytes of the string', () => {
    // sha256 of the bytes c3 a9 (not of the latin1 byte e9).
    expect(sha256Hex('é')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
    expect(sha256Hex('x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('constantTimeEqual', () => {
  it('is true for equal strings', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('is false for unequal strings of the same length', () => {
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('Abc', 'abc')).toBe(false);
  });

  it('is false (without throwing) for strings of different lengths', () => {
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
    // Same number of characters, different number of UTF-8 bytes.
    expect(constantTimeEqual('é', 'e')).toBe(false);
  });
});

describe('deriveKey', () => {
  it('is a stable 32-byte key per secret and purpose', () => {
    const a = deriveKey('secret', 'jwt:admin');
    expect(a).toHaveLength(32);
    expect(deriveKey('secret', 'jwt:admin').equals(a)).toBe(true);
  });

  it('differs per purpose and per secret', () => {
    const admin = deriveKey('secret', 'jwt:admin');
    expect(deriveKey('secret', 'jwt:device').equals(admin)).toBe(false);
    expect(deriveKey('other secret', 'jwt:admin').equals(admin)).toBe(false);
  });

  it('accepts bytes as the secret, same as the equivalent string', () => {
    expect(deriveKey(Buffer.from('secret'), 'p').equals(deriveKey('secret', 'p'))).toBe(true);
    expect(deriveKey('secret', 'p').equals(Buffer.from('secret'))).toBe(false);
  });
});
