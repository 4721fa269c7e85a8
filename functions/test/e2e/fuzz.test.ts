import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { sampleDevice } from '../helpers/app.js';
import { hostileCases } from '../helpers/hostile.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import type { Route } from '../../src/core/route.js';

/**
 * Generated hostile input against every device and admin route of a running server on the real
 * PostgreSQL: wrong types, missing fields, huge numbers, deep nesting, 1 MB strings, SQL and script
 * fragments, broken JSON. Each must get a 4xx, the server must stay up, and no row may be written.
 */
describe('fuzzing every route with hostile input', () => {
  let server: ServerProcess;
  let databaseUrl: string;
  let client: pg.Client;
  const bearer: Record<string, string> = {};
  let routes: Route[] = [];
  let deviceId = '';

  const counts = async () => {
    const { rows } = await client.query<{ t: string; n: number }>(`
      select 'admins' t, count(*)::int n from admins union all select 'enrollment_tokens', count(*)::int from enrollment_tokens
      union all select 'devices', count(*)::int from devices union all select 'heartbeats', count(*)::int from heartbeats
      union all select 'device_events', count(*)::int from device_events union all select 'audit_log', count(*)::int from audit_log
      union all select 'device_groups', count(*)::int from device_groups union all select 'commands', count(*)::int from commands
      union all select 'device_tags', count(*)::int from device_tags union all select 'command_dispatches', count(*)::int from command_dispatches
      union all select 'alerts', count(*)::int from alerts union all select 'alert_settings', count(*)::int from alert_settings
      union all select 'notifications', count(*)::int from notifications`);
    return Object.fromEntries(rows.map((r) => [r.t, r.n]));
  };

  beforeAll(async () => {
    // The route table itself, to fuzz every route there is.
    const local = await createTestApp('pglite');
    routes = local.app.routes;
    await local.close();

    databaseUrl = await clonePostgresDatabase();
    server = await startServer({
      DATABASE_URL: databaseUrl,
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'fuzzing password 1',
      ADMIN_BCRYPT_ROUNDS: '4',
      DEVICE_SECRET_BCRYPT_ROUNDS: '4',
      RATE_LIMIT_LOGIN_FAILURES: '100000',
      RATE_LIMIT_ENROLL_FAILURES: '100000',
      RATE_LIMIT_SESSION_FAILURES: '100000',
    });
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const post = async (path: string, body: unknown, token?: string) =>
      (
        await fetch(server.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        })
      ).json() as Promise<Record<string, string>>;
    bearer.admin = (await post('/api/v1/admin/login', { email: 'admin@example.com', password: 'fuzzing password 1' })).token!;
    const token = (await post('/api/v1/admin/enrollment-tokens', {}, bearer.admin)).token!;
    const device = await post('/api/v1/enroll', { enrollmentToken: token, device: sampleDevice() });
    deviceId = device.deviceId!;
    bearer.device = (await post('/api/v1/device/session', { deviceId, deviceSecret: device.deviceSecret })).accessToken!;
  });
  afterAll(async () => {
    await client?.end();
    await server?.stop();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  const cases = () => hostileCases(routes, deviceId);

  // Over a thousand requests to a real server: 25 s alone, over 60 s beside the tools suite on two cores.
  it('answers at least 1,000 hostile requests with 4xx, writes nothing and keeps running', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(1000);
    expect(new Set(all.map((c) => c.route)).size).toBe(
      routes.filter((r) => !('upload' in r && r.upload) && (r.body || r.query || r.path.includes('{'))).length,
    );
    const before = await counts();
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < all.length; i += 8) {
      await Promise.all(
        all.slice(i, i + 8).map(async (c) => {
          const token = c.route.auth === 'device' ? bearer.device : c.route.auth === 'public' ? undefined : bearer.admin;
          const res = await fetch(`${server.url}${c.path}${c.query ? `?${c.query}` : ''}`, {
            method: c.route.method,
            headers: { 'content-type': c.contentType ?? 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            ...(c.body !== undefined && c.route.method !== 'GET' ? { body: c.body } : {}),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const isError = res.status >= 400 && res.status < 500;
          const shaped = isError ? /^\{"error":\{"code":"[a-z_]+","message":/.test(text) : true;
          // Query fuzz on GET routes may be valid input (a search for "'" finds nothing): 200 is fine there.
          const okRead = c.route.method === 'GET' && res.status === 200;
          if (!(isError && shaped) && !okRead)
            failures.push(
              `${res.status} ${c.route.method} ${c.path}?${c.query ?? ''} sent ${String(c.body).slice(0, 200)} got ${text.slice(0, 80)}`,
            );
        }),
      );
    }
    console.log(`fuzz: ${all.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.output()).not.toContain('unhandled error');
  }, 180_000);

  it('refuses oversized and malformed headers, a huge URL and a lying Content-Length, and keeps running', async () => {
    const raw = (head: string) =>
      new Promise<number>((resolve) => {
        const { port } = new URL(server.url);
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(head));
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
        socket.on('error', () => resolve(0));
      });
    const big = (
      await fetch(`${server.url}/api/v1/admin/devices`, {
        headers: { authorization: `Bearer ${bearer.admin}`, cookie: 'x='.padEnd(40_000, 'y') },
      })
    ).status;
    expect(big).toBe(431);
    expect(
      (await fetch(`${server.url}/api/v1/admin/devices?q=${'a'.repeat(20_000)}`, { headers: { authorization: `Bearer ${bearer.admin}` } }))
        .status,
    ).toBe(431);
    const many: Record<string, string> = { authorization: `Bearer ${bearer.admin}` };
    for (let i = 0; i < 3000; i++) many[`x-h${i}`] = 'v';
    expect([400, 431]).toContain((await fetch(`${server.url}/api/v1/admin/devices`, { headers: many })).status);
    // a body shorter than its Content-Length, a Content-Length that is not a number, a bad request line
    expect([400, 408, 0]).toContain(
      await raw('POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'),
    );
    expect([400, 0]).toContain(await raw('GARBAGE\r\n\r\n'));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.output()).not.toContain('unhandled error');
  });

  it('stores hostile strings in free-text fields verbatim and finds nothing with them as filters', async () => {
    const label = "Robert'); drop table devices; -- <script>alert(1)</script>";
    const res = await fetch(`${server.url}/api/v1/admin/enrollment-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer.admin}` },
      body: JSON.stringify({ label }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { label: string }).label).toBe(label);
    const search = await fetch(`${server.url}/api/v1/admin/devices?q=${encodeURIComponent("' or 1=1 --")}`, {
      headers: { authorization: `Bearer ${bearer.admin}` },
    });
    expect(((await search.json()) as { items: unknown[] }).items).toEqual([]);
    expect((await counts()).devices).toBe(1);
  });
});
