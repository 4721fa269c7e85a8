import pg from 'pg';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { sampleDevice, sampleHeartbeat } from '../helpers/app.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import type { Route } from '../../src/http/route.js';

/**
 * Generated hostile input against every device and admin route of a running server on the real
 * PostgreSQL: wrong types, missing fields, huge numbers, deep nesting, 1 MB strings, SQL and script
 * fragments, broken JSON. Each must get a 4xx, the server must stay up, and no row may be written.
 */
const deep = (n: number): unknown => (n === 0 ? 'x' : [deep(n - 1)]);
const deepObject = (n: number): unknown => (n === 0 ? 1 : { a: deepObject(n - 1) });

const HOSTILE: unknown[] = [
  null, true, 0, -1, 1.5, 1e308, -1e308, 2 ** 63, '', ' ', 'NaN', '1e400', '9'.repeat(400),
  'x'.repeat(1024 * 1024), 'a\u0000b', "'; drop table devices; --", "1' or '1'='1", '<script>alert(1)</script>',
  '${7*7}{{7*7}}', '../../../../etc/passwd', '\ud800', [], {}, [1, 2, 3], deep(2000), deepObject(500),
  { __proto__: { role: 'admin' } }, { $where: '1' },
];

const RAW_BODIES = [
  'null', '[]', '"x"', '1', 'true', '{', '{"a":', '{"a":1}garbage', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), '['.repeat(60_000) + ']'.repeat(60_000),
  JSON.stringify({ s: 'x'.repeat(1024 * 1024) }), '{"__proto__":{"admin":true}}', '{"email":' + '"a",'.repeat(10_000) + '}',
];

const HOSTILE_QUERY = [
  "'", "1' or '1'='1", '-1', '0', '1e308', '99999999999999999999', 'NaN', '%00', '<script>', 'a'.repeat(5000),
  '../etc/passwd', '{}', '[]', 'null', '%ZZ',
];

function leaves(value: unknown, path: string[] = []): string[][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => [[...path, k], ...leaves(v, [...path, k])]);
  }
  return [];
}

function withValue(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

interface Case {
  route: Route;
  path: string;
  query?: string;
  body?: string | Buffer;
  contentType?: string;
}

const parsesTo = (raw: string | Buffer): unknown => {
  try {
    return JSON.parse(raw.toString());
  } catch {
    return Symbol('not json');
  }
};

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

  const template = (r: Route): unknown => {
    switch (r.path) {
      case '/api/v1/admin/login':
        return { email: 'admin@example.com', password: 'not the password' };
      case '/api/v1/enroll':
        return { enrollmentToken: 'mdmet_' + 'A'.repeat(43), device: sampleDevice(), fcmToken: 'fcm' };
      case '/api/v1/device/session':
        return { deviceId, deviceSecret: 'not the secret' };
      case '/api/v1/heartbeat':
        return { ...sampleHeartbeat(new Date()), events: [{ type: 'boot', at: new Date().toISOString(), data: { a: 1 } }] };
      case '/api/v1/admin/commands':
        return { type: 'INSTALL_APK', params: { url: 'https://x.example/a.apk', sha256: 'a'.repeat(64), versionCode: 2 }, deviceIds: [deviceId], expiresInSec: 600 };
      case '/api/v1/commands/{id}/result':
        return { status: 'succeeded', output: 'ok', error: 'none' };
      case '/api/v1/admin/settings/alerts':
        return { thresholds: { lowBatteryPct: 10, holdSec: 60 }, kinds: { app_down: { selfHeal: false } }, channels: { discord: { enabled: false } } };
      case '/api/v1/admin/settings/alerts/test':
        return { channel: 'discord' };
      case '/api/v1/admin/devices/{id}':
        return { name: 'Kiosk', group: 'Fuzz', tags: ['a', 'b'] };
      default:
        return { label: 'fuzz', expiresInSec: 3600, group: 'Fuzz', tags: ['t'], maxUses: 2 };
    }
  };

  function cases(): Case[] {
    const out: Case[] = [];
    for (const r of routes) {
      const path = r.path.replace('{id}', deviceId);
      if (r.body) {
        const base = template(r);
        const schema = r.body as z.ZodType;
        const bodies: unknown[] = [];
        for (const leaf of leaves(base)) {
          bodies.push(withValue(base, leaf, undefined));
          for (const v of HOSTILE) bodies.push(withValue(base, leaf, v));
        }
        // Only bodies the schema refuses: a valid body may legitimately write.
        // judged as the server will see it: after the JSON round trip (an inherited key does not travel)
        for (const b of bodies) {
          const body = JSON.stringify(b);
          if (!schema.safeParse(JSON.parse(body)).success) out.push({ route: r, path, body });
        }
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
          out.push({ route: r, path, body: JSON.stringify(base), contentType: type });
        }
        for (const raw of RAW_BODIES) if (!schema.safeParse(parsesTo(raw)).success) out.push({ route: r, path, body: raw });
      }
      for (const key of Object.keys((r.query as z.ZodObject | undefined)?.shape ?? {})) {
        for (const v of HOSTILE_QUERY) out.push({ route: r, path, query: `${key}=${encodeURIComponent(v)}` });
      }
      if (r.path.includes('{id}')) {
        for (const v of HOSTILE_QUERY) out.push({ route: r, path: r.path.replace('{id}', encodeURIComponent(v)) });
      }
    }
    return out;
  }

  it('answers at least 1,000 hostile requests with 4xx, writes nothing and keeps running', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(1000);
    expect(new Set(all.map((c) => c.route)).size).toBe(routes.filter((r) => r.body || r.query || r.path.includes('{')).length);
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
          if (!(isError && shaped) && !okRead) failures.push(`${res.status} ${c.route.method} ${c.path}?${c.query ?? ''} sent ${String(c.body).slice(0, 200)} got ${text.slice(0, 80)}`);
        }),
      );
    }
    console.log(`fuzz: ${all.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
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
