import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { ADMIN_EMAIL, createTestApp, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('console users on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApp(kind);
    admin = await t.loginAs('admin');
  });
  afterAll(() => t.close());

  const users = (token = admin) => t.request('GET', '/api/v1/admin/users', { token });
  const create = (body: unknown, token = admin) => t.request('POST', '/api/v1/admin/users', { token, body });
  const patch = (id: string, body: unknown, token = admin) => t.request('PATCH', `/api/v1/admin/users/${id}`, { token, body });
  const remove = (id: string, token = admin) => t.request('DELETE', `/api/v1/admin/users/${id}`, { token });
  const login = (email: string, password: string) => t.request('POST', '/api/v1/admin/login', { body: { email, password } });
  const auditOf = async (action: string) =>
    t.db.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  const firstAdminId = async () => (await users()).json.items.find((u: { email: string }) => u.email === ADMIN_EMAIL).id as string;

  it('lists users without password hashes, to admins only', async () => {
    const res = await users();
    expect(res.status).toBe(200);
    expect(res.json.items[0]).toMatchObject({ email: ADMIN_EMAIL, role: 'admin', disabled: false, lastLoginAt: expect.any(String) });
    expect(JSON.stringify(res.json)).not.toMatch(/\$2[aby]\$/);
    expect((await users(await t.loginAs('operator'))).status).toBe(403);
    expect((await users(await t.loginAs('viewer'))).status).toBe(403);
  });

  it('creates a user with a generated password shown once, who can sign in; the change is audited', async () => {
    const res = await create({ email: 'Night.Shift@Example.com', name: 'Night shift', role: 'operator' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ email: 'night.shift@example.com', name: 'Night shift', role: 'operator', disabled: false });
    expect(res.json.generatedPassword).toMatch(/^[\w-]{24}$/);
    expect((await login('night.shift@example.com', res.json.generatedPassword)).json.admin.role).toBe('operator');
    expect((await users()).json.items.map((u: { email: string }) => u.email)).toContain('night.shift@example.com');
    const [entry] = (await auditOf('created_admin')).filter((a) => a.target_id === res.json.id);
    expect(entry).toMatchObject({ actor_type: 'admin', details: { email: 'night.shift@example.com', role: 'operator', bootstrap: false } });
    expect(JSON.stringify(entry)).not.toContain(res.json.generatedPassword);
  });

  it('creates a user with a given password, and refuses a taken e-mail or a short password', async () => {
    const res = await create({ email: 'viewer.one@example.com', role: 'viewer', password: 'a long enough password' });
    expect(res.status).toBe(201);
    expect(res.json.generatedPassword).toBeNull();
    expect((await login('viewer.one@example.com', 'a long enough password')).status).toBe(200);
    const again = await create({ email: 'VIEWER.ONE@example.com', role: 'admin', password: 'another password' });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('email_taken');
    expect((await create({ email: 'short@example.com', role: 'viewer', password: 'short' })).status).toBe(400);
    expect((await create({ email: 'not-an-email', role: 'viewer' })).status).toBe(400);
    expect((await create({ email: 'x@example.com', role: 'owner' })).status).toBe(400);
  });

  it("changes a role at once: the user's open session ends, and the next sign-in has the new rights", async () => {
    const created = await create({ email: 'promote@example.com', role: 'viewer', password: 'promote password 1' });
    const session = (await login('promote@example.com', 'promote password 1')).json.token as string;
    expect((await t.request('GET', '/api/v1/admin/users', { token: session })).status).toBe(403);
    const res = await patch(created.json.id, { role: 'admin' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ role: 'admin', generatedPassword: null });
    expect((await t.request('GET', '/api/v1/admin/users', { token: session })).status).toBe(401);
    const again = (await login('promote@example.com', 'promote password 1')).json.token as string;
    expect((await t.request('GET', '/api/v1/admin/users', { token: again })).status).toBe(200);
    const entries = (await auditOf('updated_admin')).filter((a) => a.target_id === created.json.id);
    expect(entries.at(-1)!.details).toEqual({ email: 'promote@example.com', changed: ['role'], role: 'admin' });
  });

  it('disables a user (their session ends at once) and enables them again', async () => {
    const created = await create({ email: 'leaver@example.com', role: 'operator', password: 'leaver password 1' });
    const session = (await login('leaver@example.com', 'leaver password 1')).json.token as string;
    expect((await patch(created.json.id, { disabled: true })).json.disabled).toBe(true);
    expect((await t.request('GET', '/api/v1/admin/me', { token: session })).status).toBe(401);
    expect((await login('leaver@example.com', 'leaver password 1')).status).toBe(401);
    expect((await patch(created.json.id, { disabled: false })).json.disabled).toBe(false);
    expect((await login('leaver@example.com', 'leaver password 1')).status).toBe(200);
    const changes = (await auditOf('updated_admin')).filter((a) => a.target_id === created.json.id).map((a) => a.details);
    expect(changes).toEqual([
      { email: 'leaver@example.com', changed: ['disabled'], disabled: true },
      { email: 'leaver@example.com', changed: ['disabled'], disabled: false },
    ]);
  });

  it('resets a password: a new one is shown once and the old one stops working', async () => {
    const created = await create({ email: 'forgetful@example.com', role: 'viewer', password: 'old password 123' });
    const res = await patch(created.json.id, { resetPassword: true });
    expect(res.status).toBe(200);
    expect(res.json.generatedPassword).toMatch(/^[\w-]{24}$/);
    expect((await login('forgetful@example.com', 'old password 123')).status).toBe(401);
    expect((await login('forgetful@example.com', res.json.generatedPassword)).status).toBe(200);
    expect((await patch(created.json.id, { password: 'chosen password 1' })).json.generatedPassword).toBeNull();
    expect((await login('forgetful@example.com', 'chosen password 1')).status).toBe(200);
    const audited = (await auditOf('updated_admin')).filter((a) => a.target_id === created.json.id);
    expect(audited.map((a) => (a.details as { changed: string[] }).changed)).toEqual([['password'], ['password']]);
    expect(JSON.stringify(audited)).not.toContain('chosen password 1');
  });

  it('refuses an empty or contradictory change, and answers 404 for an unknown user', async () => {
    const id = await firstAdminId();
    expect((await patch(id, {})).status).toBe(400);
    expect((await patch(id, { password: 'x'.repeat(12), resetPassword: true })).status).toBe(400);
    expect((await patch('00000000-0000-4000-8000-000000000000', { role: 'viewer' })).status).toBe(404);
    expect((await remove('00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('deletes a user without history and audits it; one with history must be disabled instead', async () => {
    const created = await create({ email: 'temp@example.com', role: 'viewer' });
    expect((await remove(created.json.id)).status).toBe(204);
    expect((await users()).json.items.map((u: { email: string }) => u.email)).not.toContain('temp@example.com');
    expect((await auditOf('deleted_admin')).at(-1)).toMatchObject({
      target_id: created.json.id,
      details: { email: 'temp@example.com', role: 'viewer' },
    });

    const busy = await create({ email: 'busy@example.com', role: 'operator', password: 'busy password 12' });
    const session = (await login('busy@example.com', 'busy password 12')).json.token as string;
    expect((await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: session, body: { label: 'by busy' } })).status).toBe(201);
    const refused = await remove(busy.json.id);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('admin_has_history');
    expect((await users()).json.items.map((u: { email: string }) => u.email)).toContain('busy@example.com');
  });

  it('never demotes, disables or deletes the last enabled admin', async () => {
    // Leave exactly one enabled admin: the first one, who is also the caller.
    for (const u of (await users()).json.items as { id: string; email: string; role: string }[]) {
      if (u.role === 'admin' && u.email !== ADMIN_EMAIL) expect((await patch(u.id, { role: 'operator' })).status).toBe(200);
    }
    const id = await firstAdminId();
    for (const res of [await patch(id, { role: 'operator' }), await patch(id, { disabled: true }), await remove(id)]) {
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('last_admin');
    }
    // A disabled admin does not count: a second admin must be enabled to let the first go.
    const second = await create({ email: 'second.admin@example.com', role: 'admin', password: 'second password 1' });
    await patch(second.json.id, { disabled: true });
    expect((await patch(id, { role: 'viewer' })).status).toBe(409);
    await patch(second.json.id, { disabled: false });
    expect((await patch(id, { role: 'operator' })).status).toBe(200);
    // The caller demoted themselves, which ended their session; the second is now the last admin and signs in to go on.
    expect((await users()).status).toBe(401);
    admin = (await login('second.admin@example.com', 'second password 1')).json.token;
    expect((await patch(second.json.id, { name: 'Second' })).status).toBe(200);
    expect((await patch(second.json.id, { role: 'viewer' })).json.error.code).toBe('last_admin');
  });

  it('lets exactly one of two admins demoting each other at once through', async () => {
    const other = await create({ email: 'race.admin@example.com', role: 'admin', password: 'race password 12' });
    const otherSession = (await login('race.admin@example.com', 'race password 12')).json.token as string;
    const self = ((await users()).json.items as { id: string; email: string }[]).find((u) => u.email === 'second.admin@example.com')!;
    const results = await Promise.all([patch(other.json.id, { role: 'viewer' }), patch(self.id, { role: 'viewer' }, otherSession)]);
    // The loser is refused as the last admin, or - when it was authenticated after the winner committed - as a
    // viewer, or as a session the demotion ended.
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 || r.status === 403 || r.status === 401)).toHaveLength(1);
    const rows = await t.db.db.selectFrom('admins').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null).execute();
    expect(rows).toHaveLength(1);
  });
});
