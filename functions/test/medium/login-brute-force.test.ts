import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestApp, type TestApp } from '../helpers/app.js';

/** Guessing one account's password: after 5 failures from one address, that address gets 429 for that account. */
describe.each(DB_KINDS)('login brute-force protection on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  const login = (email: string, password: string, ip: string) =>
    t.request('POST', '/api/v1/admin/login', { body: { email, password }, ip });
  const lockouts = () => t.db.db.selectFrom('audit_log').selectAll().where('action', '=', 'locked_out_login').execute();

  it('answers 429 with Retry-After to the sixth try on one account from one address, even with the right password, and audits it once', async () => {
    for (let i = 0; i < 5; i++) expect((await login(ADMIN_EMAIL, `wrong ${i}`, '203.0.113.1')).status).toBe(401);
    const blocked = await login(ADMIN_EMAIL.toUpperCase(), ADMIN_PASSWORD, '203.0.113.1');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(blocked.json.error).toEqual({
      code: 'rate_limited',
      message: expect.stringMatching(/too many failed sign-ins for this account from your address; retry in \d+ s/),
    });
    expect((await login(ADMIN_EMAIL, 'wrong again', '203.0.113.1')).status).toBe(429);
    const audited = await lockouts();
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ actor_type: 'system', target_type: 'login', target_id: ADMIN_EMAIL, ip: '203.0.113.1' });
    expect(audited[0]!.details).toMatchObject({ email: ADMIN_EMAIL, failures: 5, windowSec: 900 });
  });

  it('does not lock the account out for the admin at another address, nor other accounts at this one', async () => {
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '198.51.100.2')).status).toBe(200);
    expect((await login('someone@example.com', 'a guess', '203.0.113.1')).status).toBe(401);
  });

  it('lets the address in again once the window is over', async () => {
    t.clock.advance(15 * 60_000 + 1000);
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '203.0.113.1')).status).toBe(200);
  });

  it("forgets an account's failures when it signs in", async () => {
    for (let i = 0; i < 4; i++) expect((await login(ADMIN_EMAIL, 'typo', '203.0.113.9')).status).toBe(401);
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '203.0.113.9')).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(ADMIN_EMAIL, 'typo', '203.0.113.9')).status).toBe(401);
  });

  it('treats an unknown e-mail the same (no account enumeration), and still limits one address across accounts', async () => {
    for (let i = 0; i < 5; i++) expect((await login('nobody@example.com', 'guess', '203.0.113.20')).status).toBe(401);
    expect((await login('nobody@example.com', 'guess', '203.0.113.20')).status).toBe(429);
    // the per-address limit (RATE_LIMIT_LOGIN_FAILURES, 10) over many accounts
    for (let i = 0; i < 10; i++) await login(`user${i}@example.com`, 'guess', '203.0.113.30');
    const res = await login(ADMIN_EMAIL, ADMIN_PASSWORD, '203.0.113.30');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });
});
