import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/core/crypto.js';
import { ROLE_RANK, ROLES, SCOPES, type Auth, type Route } from '../../src/core/route.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const METRICS_TOKEN = randomBytes(32).toString('base64url');
type Caller = 'anonymous' | 'device' | 'viewer' | 'operator' | 'admin' | 'metrics';
const CALLERS: Caller[] = ['anonymous', 'device', 'viewer', 'operator', 'admin', 'metrics'];

/** What the route table promises: 401 for anyone not of the route's kind, 403 for a role below it, through otherwise. */
function expected(auth: Auth, caller: Caller): 'through' | 401 | 403 {
  if (auth === 'public') return 'through';
  if (auth === 'device') return caller === 'device' ? 'through' : 401;
  if (auth === 'metrics') return caller === 'metrics' ? 'through' : 401;
  if (caller === 'viewer' || caller === 'operator' || caller === 'admin') return ROLE_RANK[caller] >= ROLE_RANK[auth] ? 'through' : 403;
  return 401;
}

/**
 * Walks the whole route table: every route is tried by every kind of caller, so a new route cannot
 * be added without its protection being checked; then forged and stale tokens on every route.
 */
describe.each(DB_KINDS)('authorization over the route table on %s', (kind) => {
  let t: TestApp;
  let tokens: Record<Exclude<Caller, 'anonymous'>, string>;
  let deviceId: string;
  let adminId: string;
  const nonPublic = () => t.app.routes.filter((r) => r.auth !== 'public');

  beforeAll(async () => {
    t = await createTestApp(kind, { METRICS_TOKEN });
    const device = await t.enrollDevice();
    deviceId = device.deviceId;
    tokens = {
      viewer: await t.loginAs('viewer'),
      operator: await t.loginAs('operator'),
      admin: await t.loginAs('admin'),
      device: await t.deviceToken(device),
      metrics: METRICS_TOKEN,
    };
    adminId = JSON.parse(Buffer.from(tokens.admin.split('.')[1]!, 'base64url').toString()).sub;
  });
  afterAll(() => t.close());

  const path = (r: Route) => r.path.replace(/\{\w+\}/g, deviceId);
  const call = (r: Route, headers: Record<string, string>) =>
    t.request(r.method, path(r), { headers: { 'content-type': 'application/json', ...headers }, rawBody: '{}' });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('has routes of every kind to check', () => {
    const kinds = new Set(t.app.routes.map((r) => r.auth));
    for (const k of ['public', 'device', 'metrics', 'viewer', 'operator', 'admin']) expect(kinds, k).toContain(k);
  });

  it('answers every route x caller as the table says: 401 outside, 403 below the role, through otherwise', async () => {
    const wrong: string[] = [];
    // signing out ends every session of its admin: it goes last, then everyone signs in again
    const logout = (r: Route) => r.path === '/api/v1/admin/logout';
    for (const r of [...t.app.routes.filter((r) => !logout(r)), ...t.app.routes.filter(logout)]) {
      for (const caller of CALLERS) {
        const res = await call(r, caller === 'anonymous' ? {} : bearer(tokens[caller]));
        const want = expected(r.auth, caller);
        const ok = want === 'through' ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === want;
        if (!ok) wrong.push(`${caller} ${r.method} ${r.path}: ${res.status}, expected ${want}`);
      }
    }
    expect(wrong).toEqual([]);
    for (const role of ['viewer', 'operator', 'admin'] as const) tokens[role] = await t.loginAs(role);
  });

  describe('API tokens', () => {
    let full: string;
    let narrow: string;
    beforeAll(async () => {
      const admin = await t.loginAs('admin');
      const create = async (name: string, scopes: readonly string[]) =>
        (await t.request('POST', '/api/v1/admin/api-tokens', { token: admin, body: { name, scopes } })).json.token as string;
      full = await create('matrix-full', SCOPES);
      narrow = await create('matrix-audit', ['audit:read']);
    });

    /** A token: through where the route names one of its scopes, 403 on other admin routes, 401 on device and metrics routes. */
    const forToken = (r: Route, scopes: readonly string[]): 'through' | 401 | 403 => {
      if (r.auth === 'public') return 'through';
      if (r.auth === 'device' || r.auth === 'metrics') return 401;
      return r.scope && scopes.includes(r.scope) ? 'through' : 403;
    };

    it('has routes open to tokens and routes closed to them', () => {
      const admin = t.app.routes.filter((r) => ROLES.includes(r.auth as never));
      expect(new Set(admin.filter((r) => r.scope).map((r) => r.scope))).toEqual(new Set(SCOPES));
      expect(admin.filter((r) => !r.scope).map((r) => r.path)).toEqual(
        expect.arrayContaining(['/api/v1/admin/users', '/api/v1/admin/api-tokens', '/api/v1/admin/command-approvals']),
      );
    });

    it('answers every route x token as the table says: the scope or 403, never an admin route without a scope', async () => {
      const wrong: string[] = [];
      for (const r of t.app.routes.filter((x) => x.path !== '/api/v1/admin/logout')) {
        for (const [name, token, scopes] of [
          ['full', full, SCOPES],
          ['audit:read', narrow, ['audit:read']],
        ] as const) {
          const res = await call(r, bearer(token));
          const want = forToken(r, scopes);
          const ok = want === 'through' ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === want;
          if (!ok) wrong.push(`${name} ${r.method} ${r.path}: ${res.status}, expected ${want}`);
        }
      }
      expect(wrong).toEqual([]);
    });

    it('answers 401 on every route once a token is revoked or expired', async () => {
      const admin = await t.loginAs('admin');
      const make = async (name: string, expiresInSec?: number) =>
        (
          await t.request('POST', '/api/v1/admin/api-tokens', {
            token: admin,
            body: { name, scopes: SCOPES, ...(expiresInSec ? { expiresInSec } : {}) },
          })
        ).json as { id: string; token: string };
      const revoked = await make('matrix-revoked');
      const expired = await make('matrix-expired', 60);
      expect((await t.request('DELETE', `/api/v1/admin/api-tokens/${revoked.id}`, { token: admin })).status).toBe(204);
      t.clock.advance(61_000);
      const through: string[] = [];
      for (const r of nonPublic()) {
        for (const token of [revoked.token, expired.token]) {
          const res = await call(r, bearer(token));
          if (res.status !== 401) through.push(`${r.method} ${r.path}: ${res.status}`);
        }
      }
      expect(through).toEqual([]);
    });
  });

  it('gives a viewer 403 on every admin mutation', async () => {
    const mutations = t.app.routes.filter(
      (r) =>
        ROLES.includes(r.auth as never) &&
        r.method !== 'GET' &&
        r.path !== '/api/v1/admin/logout' &&
        r.path !== '/api/v1/admin/me/password',
    );
    expect(mutations.length).toBeGreaterThanOrEqual(2);
    for (const r of mutations) expect((await call(r, bearer(tokens.viewer))).status, r.path).toBe(403);
  });

  it('answers 401 to malformed, tampered and wrongly keyed tokens, and to other schemes', async () => {
    // a viewer's token, its payload raised to admin: the signature no longer matches
    const [h, p, s] = tokens.viewer.split('.') as [string, string, string];
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const bad = [
      'garbage',
      `${h}.${p}.${flipped}`,
      `${h}.${Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url')}.${s}`,
      await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(64))),
    ];
    for (const r of nonPublic()) {
      for (const token of bad) expect((await call(r, bearer(token))).status, `${r.path} ${token.slice(0, 20)}`).toBe(401);
      expect((await call(r, { authorization: 'Basic YWRtaW46YWRtaW4=' })).status).toBe(401);
      expect((await call(r, { authorization: `Bearer ${'a'.repeat(5000)}` })).status).toBe(401);
    }
  });

  describe('JWTs forged with full control of header and claims', () => {
    const now = () => Math.floor(t.clock.now().getTime() / 1000);
    const claims = (audience: 'admin' | 'device', extra: JWTPayload = {}): JWTPayload => ({
      iss: 'fleet-mdm',
      aud: audience,
      sub: audience === 'admin' ? adminId : deviceId,
      iat: now(),
      exp: now() + 600,
      // the session version the admin's tokens carry now
      ...(audience === 'admin'
        ? { role: 'admin', sv: JSON.parse(Buffer.from(tokens.admin.split('.')[1]!, 'base64url').toString()).sv }
        : {}),
      ...extra,
    });
    const sign = (payload: JWTPayload, alg: string, key: Uint8Array) =>
      new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
    const keyOf = (purpose: 'admin' | 'device') => deriveKey(t.secrets.jwtSecret, `jwt:${purpose}`);
    /** HS256 with the right key, but a header that names another algorithm: an algorithm-confusion attempt. */
    const relabel = async (payload: JWTPayload, key: Uint8Array, alg: string) => {
      const [, body, sig] = (await sign(payload, 'HS256', key)).split('.');
      return `${Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url')}.${body}.${sig}`;
    };
    const attacks = async (audience: 'admin' | 'device') => {
      const other = audience === 'admin' ? 'device' : 'admin';
      const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims(audience))).toString('base64url')}.`;
      return {
        'alg none': unsigned,
        'alg HS512 with the right key': await sign(claims(audience), 'HS512', keyOf(audience)),
        'header says RS256': await relabel(claims(audience), keyOf(audience), 'RS256'),
        'header says none, signed anyway': await relabel(claims(audience), keyOf(audience), 'none'),
        'wrong key': await sign(claims(audience), 'HS256', randomBytes(32)),
        "the other audience's key": await sign(claims(audience), 'HS256', keyOf(other)),
        'wrong audience claim': await sign(claims(audience, { aud: other }), 'HS256', keyOf(audience)),
        'no audience': await sign(claims(audience, { aud: undefined }), 'HS256', keyOf(audience)),
        'wrong issuer': await sign(claims(audience, { iss: 'someone-else' }), 'HS256', keyOf(audience)),
        expired: await sign(claims(audience, { iat: now() - 7200, exp: now() - 1 }), 'HS256', keyOf(audience)),
        'no expiry': await sign(claims(audience, { exp: undefined }), 'HS256', keyOf(audience)),
        'not yet valid': await sign(claims(audience, { nbf: now() + 3600 }), 'HS256', keyOf(audience)),
      };
    };

    it('accepts a token forged exactly like the server signs them (the forgery is sound)', async () => {
      const admin = t.app.routes.find((r) => r.path === '/api/v1/admin/me')!;
      const device = t.app.routes.find((r) => r.path === '/api/v1/heartbeat')!;
      expect((await call(admin, bearer(await sign(claims('admin'), 'HS256', keyOf('admin'))))).status).toBe(200);
      expect((await call(device, bearer(await sign(claims('device'), 'HS256', keyOf('device'))))).status).toBe(400); // through auth, empty body
    });

    it('rejects alg none, a wrong algorithm, a wrong key, a wrong audience or issuer, and stale tokens on every route', async () => {
      const adminAttacks = await attacks('admin');
      const deviceAttacks = await attacks('device');
      const accepted: string[] = [];
      for (const r of nonPublic()) {
        const set = r.auth === 'device' ? deviceAttacks : adminAttacks;
        for (const [name, token] of Object.entries(set)) {
          const res = await call(r, bearer(token));
          if (res.status !== 401) accepted.push(`${name} -> ${r.method} ${r.path}: ${res.status}`);
        }
      }
      expect(accepted).toEqual([]);
    });
  });

  it('accepts the session cookie in place of the bearer token', async () => {
    const me = await t.request('GET', '/api/v1/admin/me', { headers: { cookie: `theme=dark; mdm_session=${tokens.operator}` } });
    expect(me.status).toBe(200);
    expect(me.json.admin.role).toBe('operator');
  });

  it('rejects expired sessions and disabled admins', async () => {
    const disabled = await t.loginAs('operator');
    await t.db.db.updateTable('admins').set({ disabled_at: t.clock.now() }).where('role', '=', 'operator').execute();
    expect((await t.request('GET', '/api/v1/admin/me', { token: disabled })).status).toBe(401);
    t.clock.advance(12 * 3600_000 + 1000);
    for (const r of nonPublic().filter((x) => x.auth !== 'metrics')) {
      const token = r.auth === 'device' ? tokens.device : tokens.admin;
      expect((await call(r, bearer(token))).status, r.path).toBe(401);
    }
  });
});
