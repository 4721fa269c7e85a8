import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random secret, base64url without padding: 32 bytes = 256 bits. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time string equality; unequal lengths are compared through their digests. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(createHash('sha256').update(left).digest(), createHash('sha256').update(right).digest());
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * A check for a configured bearer token (METRICS_TOKEN) that never holds the token itself: only its
 * SHA-256 is kept, and the presented token's digest is compared in constant time (equal lengths by
 * construction, so nothing about the token leaks through timing or an early length check).
 */
export function tokenDigestMatcher(sha256: Buffer | undefined): (token: string) => boolean {
  if (!sha256) return () => false;
  return (token) => timingSafeEqual(createHash('sha256').update(token).digest(), sha256);
}

/** A sub-key for one purpose, so one configured secret never signs two kinds of thing. */
export function deriveKey(secret: string | Uint8Array, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`fleet-mdm:${purpose}`).digest();
}

const FORMAT = 'v1';

/** AES-256-GCM with a random IV; output `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function encrypt(key: Buffer, plaintext: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [FORMAT, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function decrypt(key: Buffer, sealed: string): Buffer {
  const [format, ivText, tagText, ciphertext] = sealed.split('.');
  if (format !== FORMAT || !ivText || !tagText || ciphertext === undefined) throw new Error('unknown sealed format');
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  // A full 16-byte tag only: GCM would otherwise accept a truncated tag and a weaker integrity check.
  if (iv.length !== 12 || tag.length !== 16) throw new Error('malformed sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
}
