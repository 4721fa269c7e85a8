import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { deriveKey } from './crypto.js';
import { SessionTokens } from './session-tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const NOW = new Date('2026-01-15T12:00:00Z');
const NOW_SEC = NOW.getTime() / 1000;
const tokens = new SessionTokens(SECRET);

/** Signs arbitrary claims the way an attacker (or a buggy signer) could, with full control of the header. */
function forge(payload: JWTPayload, options: { alg?: string; key?: Uint8Array; purpose?: string } = {}): Promise<string> {
  const key = options.key ?? deriveKey(SECRET, options.purpose ?? 'jwt:admin');
  return new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' }).sign(key);
}
const valid = (extra: JWTPayload = {}): JWTPayload => ({
  iss: 'fleet-mdm',
  aud: 'admin',
  sub: 'admin-1',
  iat: NOW_SEC,
  exp: NOW_SEC + 3600,
  ...extra,
});
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('SessionTokens', () => {
  it('round-trips sub, claims and expiresAt', async () => {
    const { token, expiresAt } = await tokens.sign('admin', 'admin-1', NOW, 3600, { role: 'operator', sid: 's1' });
    expect(token.split('.')).toHaveLength(3);
    expect(expiresAt.toISOString()).toBe('2026-01-15T13:00:00.000Z');
    const verified = await tokens.verify('admin', token, new Date(NOW.getTime() + 60_000));
    expect(verified).not.toBeNull();
    expect(verified!.sub).toBe('admin-1');
    expect(verified!.expiresAt.toISOString()).toBe('2026-01-15T13:00:00.000Z');
    expect(verified!.claims).toMatchObject({ role: 'operator', sid: 's1', iss: 'fleet-mdm', aud: 'admin', sub: 'admin-1' });
  });

  it('signs an HS256 JWT with issuer, audience, iat and exp', async () => {
    const { token } = await tokens.sign('device', 'device-9', NOW, 600);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({ iss: 'fleet-mdm', aud: 'device', sub: 'device-9', iat: NOW_SEC, exp: NOW_SEC + 600 });
  });

  it('verifies a token forged with the right derived key (the forge helper is sound)', async () => {
    expect((await tokens.verify('admin', await forge(valid()), NOW))?.sub).toBe('admin-1');
  });

  it('also accepts a device token for the device audience', async () => {
    const { token } = await tokens.sign('device', 'device-9', NOW, 600);
    expect((await tokens.verify('device', token, NOW))?.sub).toBe('device-9');
  });

  describe('verify returns null for', () => {
    it('a token of the other audience, in both directions', async () => {
      const admin = (await tokens.sign('admin', 'admin-1', NOW, 3600)).token;
      const device = (await tokens.sign('device', 'device-1', NOW, 3600)).token;
      expect(await tokens.verify('device', admin, NOW)).toBeNull();
      expect(await tokens.verify('admin', device, NOW)).toBeNull();
    });

    it('a token whose aud claim names the other audience even when signed with the right key', async () => {
      // Signed with the admin key but claiming aud=device: the audience check must catch it on its own.
      expect(await tokens.verify('admin', await forge(valid({ aud: 'device' })), NOW)).toBeNull();
      // Claims of the right audience under the other audience's key: the separate keys must catch it.
      expect(await tokens.verify('admin', await forge(valid(), { purpose: 'jwt:device' }), NOW)).toBeNull();
      expect(await tokens.verify('device', await forge(valid({ aud: 'device' }), { purpose: 'jwt:admin' }), NOW)).toBeNull();
      expect(await tokens.verify('device', await forge(valid({ aud: 'device' }), { purpose: 'jwt:device' }), NOW)).not.toBeNull();
    });

    it('an expired token (at and after exp, but not before)', async () => {
      const { token } = await tokens.sign('admin', 'admin-1', NOW, 300);
      expect(await tokens.verify('admin', token, new Date(NOW.getTime() + 299_000))).not.toBeNull();
      expect(await tokens.verify('admin', token, new Date(NOW.getTime() + 300_000))).toBeNull();
      expect(await tokens.verify('admin', token, new Date(NOW.getTime() + 86_400_000))).toBeNull();
    });

    it('a token with a tampered payload', async () => {
      const { token } = await tokens.sign('admin', 'admin-1', NOW, 3600, { role: 'viewer' });
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const tampered = [header, b64({ ...claims, role: 'admin' }), signature].join('.');
      expect(await tokens.verify('admin', tampered, NOW)).toBeNull();
      const otherSub = [header, b64({ ...claims, sub: 'admin-2' }), signature].join('.');
      expect(await tokens.verify('admin', otherSub, NOW)).toBeNull();
    });

    it('a token with a tampered signature', async () => {
      const { token } = await tokens.sign('admin', 'admin-1', NOW, 3600);
      const [header, payload, signature] = token.split('.');
      const sig = Buffer.from(signature!, 'base64url');
      sig[0] = sig[0]! ^ 0x80;
      expect(await tokens.verify('admin', [header, payload, sig.toString('base64url')].join('.'), NOW)).toBeNull();
      expect(await tokens.verify('admin', `${header}.${payload}.`, NOW)).toBeNull();
    });

    it('an unsecured alg:none token', async () => {
      const none = new UnsecuredJWT(valid()).encode();
      expect(JSON.parse(Buffer.from(none.split('.')[0]!, 'base64url').toString()).alg).toBe('none');
      expect(await tokens.verify('admin', none, NOW)).toBeNull();
      // The same with a signature segment left in place.
      const [h, p] = none.split('.');
      const { token } = await tokens.sign('admin', 'admin-1', NOW, 3600);
      expect(await tokens.verify('admin', `${h}.${p}.${token.split('.')[2]}`, NOW)).toBeNull();
    });

    it('a token signed with HS512 under the right key', async () => {
      expect(await tokens.verify('admin', await forge(valid(), { alg: 'HS512' }), NOW)).toBeNull();
      expect(await tokens.verify('admin', await forge(valid(), { alg: 'HS384' }), NOW)).toBeNull();
    });

    it('a token signed with another secret', async () => {
      const other = new SessionTokens('another-secret-that-is-also-long-enough');
      const { token } = await other.sign('admin', 'admin-1', NOW, 3600);
      expect(await tokens.verify('admin', token, NOW)).toBeNull();
      // Signed with the raw configured secret instead of the derived key.
      expect(await tokens.verify('admin', await forge(valid(), { key: new TextEncoder().encode(SECRET) }), NOW)).toBeNull();
    });

    it('a token missing sub, exp or iat, or with the wrong issuer', async () => {
      const { sub: _s, ...noSub } = valid();
      const { exp: _e, ...noExp } = valid();
      const { iat: _i, ...noIat } = valid();
      expect(await tokens.verify('admin', await forge(noSub), NOW)).toBeNull();
      expect(await tokens.verify('admin', await forge(noExp), NOW)).toBeNull();
      expect(await tokens.verify('admin', await forge(noIat), NOW)).toBeNull();
      expect(await tokens.verify('admin', await forge(valid({ iss: 'someone-else' })), NOW)).toBeNull();
    });

    it.each(['', 'garbage', 'a.b.c', '...', 'eyJhbGciOiJIUzI1NiJ9.e30.', 'ünïcødé.tøkén.🙂', `${'x'.repeat(5000)}.y.z`])(
      'the garbage string %#',
      async (garbage) => {
        expect(await tokens.verify('admin', garbage, NOW)).toBeNull();
        expect(await tokens.verify('device', garbage, NOW)).toBeNull();
      },
    );
  });
});
