import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** Issue 15 item 4: scoped API tokens - shown once, stored hashed, scope-checked, audited under their name. */
describe.each(DB_KINDS)('API tokens on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let deviceId: string;

  beforeAll(async () => {
    t = await createTestApp(kind, { LOG_REQUESTS: 'all' });
    admin = await t.loginAs('admin');
    deviceId = (await t.enrollDevice()).deviceId;
  });
  afterAll(() => t.close());

  const create = (body: Record<string, unknown>, token = admin) => t.request('POST', '/api/v1/admin/api-tokens', { token, body });

  it('is created by admins only, shown once and stored as a hash only (never logged)', async () => {
    expect((await create({ name: 'ci', scopes: ['devices:read'] }, await t.loginAs('operator'))).status).toBe(403);
    const res = await create({ name: 'pipeline', scopes: ['releases:write', 'devices:read'], expiresInSec: 3600 });
    expect(res.status).toBe(201);
    expect(res.json.token).toMatch(/^mdmat_[\w-]{40,}$/);
    expect(res.json).toMatchObject({ name: 'pipeline', scopes: ['releases:write', 'devices:read'], status: 'active' });
    const list = await t.request('GET', '/api/v1/admin/api-tokens', { token: admin });
    expect(JSON.stringify(list.json)).not.toContain(res.json.token);
    const rows = await t.db.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(res.json.token);
    expect(rows.find((r) => r.id === res.json.id)!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    // a request with it, then every log line and audit entry: the secret appears nowhere
    await t.request('GET', '/api/v1/admin/devices', { token: res.json.token });
    expect(JSON.stringify(t.logs.lines)).not.toContain(res.json.token);
    const audit = await t.db.db.selectFrom('audit_log').selectAll().execute();
    expect(JSON.stringify(audit)).not.toContain(res.json.token);
    expect((await create({ name: 'pipeline', scopes: ['devices:read'] })).status).toBe(409);
    expect((await create({ name: 'x', scopes: ['users:write'] })).status).toBe(400);
  });

  it('lets a token through on routes of its scopes, 403 on other scopes and on routes without one', async () => {
    const token = (await create({ name: 'reader', scopes: ['devices:read', 'commands:read'] })).json.token;
    expect((await t.request('GET', '/api/v1/admin/devices', { token })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/admin/devices/${deviceId}`, { token })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/admin/commands', { token })).status).toBe(200);
    const noScope = await t.request('PATCH', `/api/v1/admin/devices/${deviceId}`, { token, body: { name: 'x' } });
    expect([noScope.status, noScope.json.error.message]).toEqual([403, 'this needs the devices:write scope']);
    expect((await t.request('POST', '/api/v1/admin/commands', { token, body: { type: 'PING', all: true } })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/admin/audit', { token })).status).toBe(403);
    // routes with no scope are never open to tokens: users, tokens themselves, approvals
    for (const [method, path] of [
      ['GET', '/api/v1/admin/users'],
      ['GET', '/api/v1/admin/api-tokens'],
      ['GET', '/api/v1/admin/me'],
      ['GET', '/api/v1/admin/command-approvals'],
    ] as const) {
      expect((await t.request(method, path, { token })).status, path).toBe(403);
    }
  });

  it('audits what a token does under its name', async () => {
    const token = (await create({ name: 'automation-bot', scopes: ['commands:write', 'devices:write'] })).json.token;
    const sent = await t.request('POST', '/api/v1/admin/commands', { token, body: { type: 'PING', deviceIds: [deviceId] } });
    expect(sent.status).toBe(201);
    await t.request('PATCH', `/api/v1/admin/devices/${deviceId}`, { token, body: { name: 'Door kiosk' } });
    const audit = await t.request('GET', '/api/v1/admin/audit', { token: admin });
    const byBot = audit.json.items.filter((e: { actor: { type: string; name: string } }) => e.actor.type === 'token');
    expect(byBot.map((e: { action: string }) => e.action).sort()).toEqual(['sent_command', 'updated_device']);
    expect(byBot.every((e: { actor: { name: string } }) => e.actor.name === 'automation-bot')).toBe(true);
    const cmd = await t.request('GET', `/api/v1/admin/commands/${sent.json.commands[0].id}`, { token: admin });
    expect(cmd.json.createdBy.type).toBe('token');
    // a token never wipes, even with commands:write
    expect((await t.request('POST', '/api/v1/admin/commands', { token, body: { type: 'WIPE', deviceIds: [deviceId] } })).status).toBe(403);
  });

  it('answers 401 once a token is revoked or expired, and audits the revocation', async () => {
    const revoked = (await create({ name: 'short-lived', scopes: ['devices:read'] })).json;
    const expiring = (await create({ name: 'expiring', scopes: ['devices:read'], expiresInSec: 60 })).json;
    expect((await t.request('GET', '/api/v1/admin/devices', { token: revoked.token })).status).toBe(200);
    expect((await t.request('DELETE', `/api/v1/admin/api-tokens/${revoked.id}`, { token: admin })).status).toBe(204);
    const after = await t.request('GET', '/api/v1/admin/devices', { token: revoked.token });
    expect([after.status, after.json.error.code]).toEqual([401, 'invalid_token']);
    t.clock.advance(61_000);
    expect((await t.request('GET', '/api/v1/admin/devices', { token: expiring.token })).status).toBe(401);
    expect((await t.request('GET', '/api/v1/admin/devices', { token: 'mdmat_forged-and-unknown' })).status).toBe(401);
    const list = (await t.request('GET', '/api/v1/admin/api-tokens', { token: admin })).json.items;
    expect(list.find((x: { id: string }) => x.id === revoked.id).status).toBe('revoked');
    expect(list.find((x: { id: string }) => x.id === expiring.id).status).toBe('expired');
    const audit = await t.request('GET', '/api/v1/admin/audit?action=revoked_api_token', { token: admin });
    expect(audit.json.items[0].details).toEqual({ name: 'short-lived' });
  });
});
