import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_RANK, ROLES, type Route } from '../../src/http/route.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * Walks the whole route table: every route is tried by every kind of caller, so a new route cannot
 * be added without its protection being checked.
 */
describe('authorization over the route table', () => {
  let t: TestApp;
  let tokens: Record<'viewer' | 'operator' | 'admin' | 'device', string>;
  let deviceId: string;
  const nonPublic = () => t.app.routes.filter((r) => r.auth !== 'public');
  const adminRoutes = () => t.app.routes.filter((r) => r.auth !== 'public' && r.auth !== 'device');
  const deviceRoutes = () => t.app.routes.filter((r) => r.auth === 'device');

  beforeAll(async () => {
    t = await createTestApp('pglite');
    const device = await t.enrollDevice();
    deviceId = device.deviceId;
    tokens = {
      viewer: await t.loginAs('viewer'),
      operator: await t.loginAs('operator'),
      admin: await t.loginAs('admin'),
      device: await t.deviceToken(device),
    };
  });
  afterAll(() => t.close());

  const path = (r: Route) => r.path.replace('{id}', deviceId);
  const call = (r: Route, headers: Record<string, string>) =>
    t.request(r.method, path(r), { headers: { 'content-type': 'application/json', ...headers }, rawBody: '{}' });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('has routes of every kind to check', () => {
    expect(adminRoutes().length).toBeGreaterThanOrEqual(8);
    expect(deviceRoutes().length).toBeGreaterThanOrEqual(1);
  });

  it('answers 401 to anonymous callers on every non-public route', async () => {
    for (const r of nonPublic()) expect((await call(r, {})).status, `${r.method} ${r.path}`).toBe(401);
  });

  it('answers 401 to malformed, tampered, unsigned, wrongly keyed or wrong-audience tokens', async () => {
    const [h, p, s] = tokens.admin.split('.') as [string, string, string];
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    const wrongKey = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(64)));
    const hs512 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode('x'.repeat(64)));
    const bad = [
      'garbage',
      `${h}.${p}.${flipped}`,
      `${h}.${Buffer.from(JSON.stringify({ ...payload, role: 'admin', sub: payload.sub })).toString('base64url')}x.${s}`,
      unsigned,
      wrongKey,
      hs512,
    ];
    for (const r of nonPublic()) {
      for (const token of bad) expect((await call(r, bearer(token))).status, `${r.path} ${token.slice(0, 20)}`).toBe(401);
      expect((await call(r, { authorization: 'Basic YWRtaW46YWRtaW4=' })).status).toBe(401);
    }
  });

  it('answers 401 to a device token on admin routes and to an admin token on device routes', async () => {
    for (const r of adminRoutes()) expect((await call(r, bearer(tokens.device))).status, r.path).toBe(401);
    for (const r of deviceRoutes()) expect((await call(r, bearer(tokens.admin))).status, r.path).toBe(401);
  });

  it('answers 403 to roles below the route and lets the rest through', async () => {
    let checked = 0;
    for (const r of adminRoutes()) {
      for (const role of ROLES) {
        const status = (await call(r, bearer(tokens[role]))).status;
        if (ROLE_RANK[role] < ROLE_RANK[r.auth as (typeof ROLES)[number]]) {
          expect(status, `${role} ${r.method} ${r.path}`).toBe(403);
          checked++;
        } else expect([401, 403], `${role} ${r.method} ${r.path}`).not.toContain(status);
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('gives a viewer 403 on every admin mutation', async () => {
    const mutations = adminRoutes().filter((r) => r.method !== 'GET' && r.path !== '/api/v1/admin/logout');
    expect(mutations.length).toBeGreaterThanOrEqual(2);
    for (const r of mutations) expect((await call(r, bearer(tokens.viewer))).status, r.path).toBe(403);
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
    for (const r of nonPublic()) {
      const token = r.auth === 'device' ? tokens.device : tokens.admin;
      expect((await call(r, bearer(token))).status, r.path).toBe(401);
    }
  });
});
