import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { hostileCases, oversizedCases, type Case } from '../helpers/hostile.js';

const TABLES = [
  'admins',
  'enrollment_tokens',
  'devices',
  'heartbeats',
  'device_events',
  'audit_log',
  'device_groups',
  'commands',
  'device_tags',
  'command_dispatches',
  'alerts',
  'alert_settings',
  'notifications',
  'heartbeat_rollups',
  'apk_releases',
];

/**
 * SQL injection and oversized input through the real handler on each database: every filter, field
 * and path parameter of every route with hostile values (test/e2e/fuzz.test.ts sends the same over
 * HTTP to a server on PostgreSQL), and every bounded field one past its bound. Each gets a 4xx in the
 * error envelope - or, for a filter, a 200 that finds nothing - and nothing is written.
 */
describe.each(DB_KINDS)('hostile and oversized input on %s', (kind) => {
  let t: TestApp;
  let deviceId: string;
  let admin: string;
  let device: string;
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.db.db);
      out[table] = rows[0]!.n;
    }
    return out;
  };

  beforeAll(async () => {
    t = await createTestApp(kind, {
      RATE_LIMIT_LOGIN_FAILURES: '100000',
      RATE_LIMIT_ENROLL_FAILURES: '100000',
      RATE_LIMIT_SESSION_FAILURES: '100000',
      RATE_LIMIT_LOGIN_ACCOUNT_FAILURES: '100000',
    });
    const d = await t.enrollDevice();
    deviceId = d.deviceId;
    device = await t.deviceToken(d);
    admin = await t.loginAs('admin');
  });
  afterAll(() => t.close());

  const send = async (c: Case) => {
    const token = c.route.auth === 'device' ? device : c.route.auth === 'public' ? undefined : admin;
    return t.request(c.route.method, `${c.path}${c.query ? `?${c.query}` : ''}`, {
      headers: { 'content-type': c.contentType ?? 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(c.body !== undefined && c.route.method !== 'GET' ? { rawBody: c.body } : {}),
    });
  };
  const judge = (c: Case, res: Awaited<ReturnType<typeof send>>, failures: string[]) => {
    const text = res.body.toString();
    const isError = res.status >= 400 && res.status < 500 && /^\{"error":\{"code":"[a-z_]+","message":/.test(text);
    // a hostile search finds nothing: a read may answer 200, but never with the device in it
    const injected = decodeURIComponent(c.query ?? '').includes("'");
    const okRead = c.route.method === 'GET' && res.status === 200 && !(injected && text.includes(deviceId));
    if (!isError && !okRead)
      failures.push(
        `${res.status} ${c.route.method} ${c.path}?${(c.query ?? '').slice(0, 80)} ${c.what ?? ''} sent ${String(c.body).slice(0, 120)} got ${text.slice(0, 100)}`,
      );
  };

  it('refuses every hostile body, filter and path parameter without writing anything', async () => {
    if (kind === 'postgres') return; // on PostgreSQL the same cases go over HTTP to a real server: test/e2e/fuzz.test.ts
    const cases = hostileCases(t.app.routes, deviceId);
    expect(cases.length).toBeGreaterThan(1000);
    const before = await counts();
    const failures: string[] = [];
    for (const c of cases) judge(c, await send(c), failures);
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
    expect(t.logs.lines.filter((l) => l.message === 'unhandled error')).toEqual([]);
    // over a thousand requests on the embedded database: 15 s alone, over 35 s beside the tools suite
  }, 120_000);

  it('refuses every bounded field one past its bound', async () => {
    const cases = oversizedCases(t.app.routes, deviceId);
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(cases.map((c) => c.what)).toContain('bootId maxLength 64');
    const before = await counts();
    const failures: string[] = [];
    for (const c of cases) {
      const res = await send(c);
      if (res.status !== 400)
        failures.push(`${res.status} ${c.route.method} ${c.route.path} ${c.what}: ${res.body.toString().slice(0, 100)}`);
    }
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('treats injection in a search as text: nothing found, nothing run', async () => {
    for (const q of ["' or 1=1 --", "%' or '%'='", "x'; drop table devices; --", '_', '%', '\\']) {
      const res = await t.request('GET', `/api/v1/admin/devices?q=${encodeURIComponent(q)}`, { token: admin });
      expect(res.status, q).toBe(200);
      expect(res.json.items, q).toEqual([]);
    }
    const label = "Robert'); drop table devices; -- <script>alert(1)</script>";
    const created = await t.request('POST', '/api/v1/admin/enrollment-tokens', { token: admin, body: { label } });
    expect(created.json.label).toBe(label);
    expect((await counts()).devices).toBe(1);
  });
});
