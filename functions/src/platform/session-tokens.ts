import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
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

export class SessionTokens {
  readonly #keys: Record<Audience, Uint8Array>;

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

  /** Returns null for anything that is not a valid, unexpired token of this audience. */
  async verify(audience: Audience, token: string, now: Date): Promise<VerifiedToken | null> {
    try {
      const { payload } = await jwtVerify(token, this.#keys[audience], {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience,
        currentDate: now,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
      return { sub: payload.sub, claims: payload, expiresAt: new Date(payload.exp * 1000) };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return null;
      throw err;
    }
  }
}
