import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StreamSink } from '../../src/core/route.js';
import { STREAM_RECHECK_MS } from '../../src/admin/index.js';
import { DB_KINDS } from '../helpers/db.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestApp, type TestApp } from '../helpers/app.js';

/**
 * Revocable sessions (before: a token still worked after logout and after a password reset, disabling
 * then re-enabling revived old tokens, and an open /api/v1/admin/stream kept sending to a disabled viewer).
 */
describe.each(DB_KINDS)('revocable admin sessions on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApp(kind);
    admin = await t.loginAs('admin');
  });
  afterAll(() => t.close());

  const me = (token: string) => t.request('GET', '/api/v1/admin/me', { token });
  const login = (email: string, password: string) => t.request('POST', '/api/v1/admin/login', { body: { email, password } });
  const createUser = async (email: string, role = 'operator', password = 'a fine password 1') => {
    const res = await t.request('POST', '/api/v1/admin/users', { token: admin, body: { email, role, password } });
    expect(res.status).toBe(201);
    return res.json.id as string;
  };
  const patch = (id: string, body: unknown) => t.request('PATCH', `/api/v1/admin/users/${id}`, { token: admin, body });

  it('logout ends the session: the token is refused afterwards', async () => {
    const token = (await login(ADMIN_EMAIL, ADMIN_PASSWORD)).json.token as string;
    expect((await me(token)).status).toBe(200);
    expect((await t.request('POST', '/api/v1/admin/logout', { token })).status).toBe(204);
    expect((await me(token)).status).toBe(401);
    admin = await t.loginAs('admin');
  });

  it('a password reset ends the user’s sessions', async () => {
    const id = await createUser('reset@example.com');
    const token = (await login('reset@example.com', 'a fine password 1')).json.token as string;
    expect((await patch(id, { resetPassword: true })).status).toBe(200);
    expect((await me(token)).status).toBe(401);
  });

  it('disabling then re-enabling does not revive old tokens; a role change ends the session too', async () => {
    const id = await createUser('leaver2@example.com');
    const token = (await login('leaver2@example.com', 'a fine password 1')).json.token as string;
    await patch(id, { disabled: true });
    await patch(id, { disabled: false });
    expect((await me(token)).status).toBe(401);
    const fresh = (await login('leaver2@example.com', 'a fine password 1')).json.token as string;
    expect((await me(fresh)).status).toBe(200);
    await patch(id, { role: 'viewer' });
    expect((await me(fresh)).status).toBe(401);
  });

  it('changing one’s own password ends the other sessions and returns a new one', async () => {
    await createUser('changer@example.com');
    const other = (await login('changer@example.com', 'a fine password 1')).json.token as string;
    const token = (await login('changer@example.com', 'a fine password 1')).json.token as string;
    const res = await t.request('POST', '/api/v1/admin/me/password', {
      token,
      body: { currentPassword: 'a fine password 1', newPassword: 'another fine password 2' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toContain('mdm_session=');
    expect((await me(other)).status).toBe(401);
    expect((await me(token)).status).toBe(401);
    expect((await me(res.json.token)).status).toBe(200);
    const wrong = await t.request('POST', '/api/v1/admin/me/password', {
      token: res.json.token,
      body: { currentPassword: 'not it at all', newPassword: 'yet another password 3' },
    });
    expect(wrong.status).toBe(403);
  });

  it(`closes an open event stream within ${STREAM_RECHECK_MS / 1000} s once its viewer is disabled`, async () => {
    const id = await createUser('watcher@example.com', 'viewer');
    const token = (await login('watcher@example.com', 'a fine password 1')).json.token as string;
    const res = await t.request('GET', '/api/v1/admin/stream', { token });
    expect(res.status).toBe(200);
    let ended = false;
    const closers: Array<() => void> = [];
    const sink: StreamSink = {
      write: () => {},
      onClose: (l) => closers.push(l),
      end: () => {
        ended = true;
        closers.forEach((c) => c());
      },
    };
    // The session is re-checked (a database read) every STREAM_RECHECK_MS: the test moves the
    // interval's clock instead of waiting for it, then gives the read real time to finish.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      res.stream!(sink);
      await vi.advanceTimersByTimeAsync(STREAM_RECHECK_MS);
      await new Promise((r) => setTimeout(r, 250));
      expect(ended).toBe(false); // still valid: stays open
      await patch(id, { disabled: true });
      await vi.advanceTimersByTimeAsync(STREAM_RECHECK_MS);
      for (let waited = 0; !ended && waited < 3000; waited += 25) await new Promise((r) => setTimeout(r, 25));
      expect(ended).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  }, 20_000);
});

/** A generated password must be changed at first sign-in; until then the API answers 403 password_change_required. */
describe.each(DB_KINDS)('generated passwords on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('a user created with a generated password must change it before anything else', async () => {
    const admin = await t.loginAs('admin');
    const created = await t.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'new@example.com', role: 'admin' } });
    const generated = created.json.generatedPassword as string;
    const signedIn = await t.request('POST', '/api/v1/admin/login', { body: { email: 'new@example.com', password: generated } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.json.admin.mustChangePassword).toBe(true);
    const token = signedIn.json.token as string;
    const refused = await t.request('GET', '/api/v1/admin/users', { token });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('password_change_required');
    expect((await t.request('GET', '/api/v1/admin/me', { token })).json.admin.mustChangePassword).toBe(true);
    const changed = await t.request('POST', '/api/v1/admin/me/password', {
      token,
      body: { currentPassword: generated, newPassword: 'my own password 42' },
    });
    expect(changed.status).toBe(200);
    expect(changed.json.admin.mustChangePassword).toBe(false);
    expect((await t.request('GET', '/api/v1/admin/users', { token: changed.json.token })).status).toBe(200);
  });

  it('the first-start admin with a generated password must change it', async () => {
    const fresh = await createTestApp(kind);
    try {
      await fresh.db.db.deleteFrom('admins').execute();
      const boot = await fresh.app.services.admins.ensureFirstAdmin({
        email: 'first@example.com',
        password: undefined,
        allowGenerated: true,
      });
      expect(boot.created).toBe(true);
      const password = (boot as { generatedPassword: string }).generatedPassword;
      const res = await fresh.request('POST', '/api/v1/admin/login', { body: { email: 'first@example.com', password } });
      expect(res.json.admin.mustChangePassword).toBe(true);
      expect((await fresh.request('GET', '/api/v1/admin/users', { token: res.json.token })).status).toBe(403);
    } finally {
      await fresh.close();
    }
  });

  it('limits passwords in bytes: 72 x ü is refused, and 36 x ü + junk does not sign in as 36 x ü', async () => {
    const admin = await t.loginAs('admin');
    const create = (email: string, password: string) =>
      t.request('POST', '/api/v1/admin/users', { token: admin, body: { email, role: 'viewer', password } });
    const long = await create('long@example.com', 'ü'.repeat(72));
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.json)).toMatch(/72 bytes/);
    expect((await create('umlaut@example.com', 'ü'.repeat(30) + 'abcdefghijkl')).status).toBe(201); // 72 bytes
    const exact = 'ü'.repeat(30) + 'abcdefghijkl';
    expect((await t.request('POST', '/api/v1/admin/login', { body: { email: 'umlaut@example.com', password: exact } })).status).toBe(200);
    const junk = await t.request('POST', '/api/v1/admin/login', { body: { email: 'umlaut@example.com', password: exact + 'junk' } });
    expect(junk.status).toBe(401);
  });

  it('refuses common and trivial passwords', async () => {
    const admin = await t.loginAs('admin');
    for (const password of ['aaaaaaaaaa', 'password123', 'qwertyuiop', '1212121212']) {
      const res = await t.request('POST', '/api/v1/admin/users', {
        token: admin,
        body: { email: 'weak@example.com', role: 'viewer', password },
      });
      expect(res.status, password).toBe(400);
    }
  });
});

/** The recovery path for a lost password (before: none was documented or existed). */
describe.each(DB_KINDS)('npm run reset-password on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('gives a new password that must be changed, ends the sessions, lifts the limits and is audited', async () => {
    const { resetPassword } = await import('../../src/scripts/reset-password.js');
    const old = (await t.request('POST', '/api/v1/admin/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).json.token;
    for (let i = 0; i < 5; i++)
      await t.request('POST', '/api/v1/admin/login', { body: { email: ADMIN_EMAIL, password: `x${i}` }, ip: '203.0.113.5' });
    const { password } = await resetPassword(t.db.db, ADMIN_EMAIL.toUpperCase(), 4);
    expect((await t.request('GET', '/api/v1/admin/me', { token: old })).status).toBe(401);
    const res = await t.request('POST', '/api/v1/admin/login', { body: { email: ADMIN_EMAIL, password }, ip: '203.0.113.5' });
    expect(res.status).toBe(200);
    expect(res.json.admin.mustChangePassword).toBe(true);
    const audited = await t.db.db.selectFrom('audit_log').selectAll().where('action', '=', 'updated_admin').execute();
    expect(audited.at(-1)).toMatchObject({ actor_type: 'system', actor_name: 'reset-password script', details: { changed: ['password'] } });
    await expect(resetPassword(t.db.db, 'nobody@example.com', 4)).rejects.toThrow(/no admin has the e-mail/);
  });
});
