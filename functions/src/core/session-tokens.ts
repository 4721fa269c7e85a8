import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { deriveKey } from './crypto.js';

/**
 * Short-lived HS256 JWTs for the two kinds of caller. Each audience has its own key derived from the
 * one configured secret, so a device token can never pass as an admin token, even if the audience
 * check were forgotten.
 */
export type Audience = 'admin' | 'device';

export interface VerifiedToken {
  sub: string;
  claims: Record<string, unknown>;
  expiresAt: Date;
}

const ISSUER = 'fleet-mdm';
const B64URL = /^[A-Za-z0-9_-]*$/;

function parseJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class SessionTokens {
  readonly #keys: Record<Audience, Buffer>;

  constructor(secret: string) {
    this.#keys = { admin: deriveKey(secret, 'jwt:admin'), device: deriveKey(secret, 'jwt:device') };
  }

  async sign(
    audience: Audience,
    sub: string,
    now: Date,
    ttlSec: number,
    claims: Record<string, unknown> = {},
  ): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + ttlSec;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#keys[audience]);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Returns null for anything that is not a valid, unexpired token of this audience. Verification is
   * synchronous node:crypto (it runs on every heartbeat; WebCrypto's async key import and thread hop
   * cost more than the HMAC itself): the MAC is checked first, in constant time, before any part of
   * the token is parsed; then the header must name HS256 and the claims must match.
   */
  verify(audience: Audience, token: string, now: Date): VerifiedToken | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    if (!B64URL.test(header) || !B64URL.test(payload) || !B64URL.test(signature)) return null;
    const expected = createHmac('sha256', this.#keys[audience]).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const h = parseJson(header);
    const claims = parseJson(payload);
    if (!h || h.alg !== 'HS256' || h.crit !== undefined || !claims) return null;
    const { iss, aud, sub, exp, iat, nbf } = claims;
    const nowSec = now.getTime() / 1000;
    if (iss !== ISSUER || typeof sub !== 'string' || typeof exp !== 'number' || typeof iat !== 'number') return null;
    if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) return null;
    if (nowSec >= exp || (typeof nbf === 'number' && nowSec < nbf)) return null;
    return { sub, claims, expiresAt: new Date(exp * 1000) };
  }
}
