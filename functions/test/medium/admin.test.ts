import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestApp, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('admin identity on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { RATE_LIMIT_LOGIN_FAILURES: '5' });
  });
  afterAll(() => t.close());

  const login = (email: string, password: string, ip?: string) =>
    t.request('POST', '/api/v1/admin/login', { body: { email, password }, ...(ip ? { ip } : {}) });

  it('creates the first admin once, with a bcrypt hash, and audits it', async () => {
    const again = await t.app.services.admins.ensureFirstAdmin({
      email: 'x@example.com',
      password: 'another password',
      allowGenerated: false,
    });
    expect(again).toEqual({ created: false });
    const admins = await t.db.db.selectFrom('admins').selectAll().execute();
    expect(admins).toHaveLength(1);
    expect(admins[0]).toMatchObject({ email: ADMIN_EMAIL, role: 'admin' });
    expect(admins[0]!.password_hash).toMatch(/^\$2[aby]\$04\$/);
    const audit = await t.db.db.selectFrom('audit_log').selectAll().where('action', '=', 'created_admin').execute();
    expect(audit).toMatchObject([{ actor_type: 'system', details: { email: ADMIN_EMAIL, role: 'admin', bootstrap: true } }]);
  });

  it('logs in with a JWT in the body and an HttpOnly SameSite=Strict cookie', async () => {
    const res = await login(ADMIN_EMAIL.toUpperCase(), ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.json.token.split('.')).toHaveLength(3);
    expect(res.json.admin).toMatchObject({ email: ADMIN_EMAIL, role: 'admin' });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^mdm_session=${res.json.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$`));
    const me = await t.request('GET', '/api/v1/admin/me', { token: res.json.token });
    expect(me.json.admin.email).toBe(ADMIN_EMAIL);
    const out = await t.request('POST', '/api/v1/admin/logout', { token: res.json.token });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('mdm_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    const actions = (await t.db.db.selectFrom('audit_log').select('action').execute()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['logged_in', 'logged_out']));
  });

  it('gives one answer for an unknown e-mail and a wrong password', async () => {
    const unknown = await login('nobody@example.com', ADMIN_PASSWORD, '198.51.100.7');
    const wrong = await login(ADMIN_EMAIL, 'wrong password', '198.51.100.7');
    expect([unknown.status, wrong.status]).toEqual([401, 401]);
    expect(unknown.json).toEqual(wrong.json);
  });

  it('limits failed logins per address with 429 and Retry-After, in the database', async () => {
    const ip = '203.0.113.99';
    for (let i = 0; i < 5; i++) expect((await login(ADMIN_EMAIL, `wrong ${i}`, ip)).status).toBe(401);
    const blocked = await login(ADMIN_EMAIL, ADMIN_PASSWORD, ip);
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe('rate_limited');
    expect(blocked.headers['retry-after']).toBe('900');
    const row = await t.db.db.selectFrom('rate_limits').selectAll().where('bucket', '=', `login:${ip}`).executeTakeFirstOrThrow();
    expect(row.failures).toBe(6); // counted before it was checked: the refused attempt too
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '203.0.113.100')).status).toBe(200);
    t.clock.advance(900_000);
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, ip)).status).toBe(200);
    expect(await t.app.adapters.limiter.prune()).toBeGreaterThan(0);
  });

  it('refuses to start without an admin password when it may not generate one', async () => {
    await t.db.db.deleteFrom('admins').execute();
    await expect(t.app.services.admins.ensureFirstAdmin({ email: undefined, password: undefined, allowGenerated: false })).rejects.toThrow(
      /ADMIN_EMAIL and ADMIN_PASSWORD/,
    );
    const generated = await t.app.services.admins.ensureFirstAdmin({ email: undefined, password: undefined, allowGenerated: true });
    expect(generated).toMatchObject({ created: true, email: 'admin@localhost', generatedPassword: expect.stringMatching(/^[\w-]{24}$/) });
    const res = await login('admin@localhost', (generated as { generatedPassword: string }).generatedPassword);
    expect(res.status).toBe(200);
  });
});
