import { z } from 'zod';
import type { Route } from '../../src/core/route.js';
import { sampleDevice, sampleHeartbeat } from './app.js';

/**
 * Hostile input for every route of the table, shared by the end-to-end fuzz (a real server on
 * PostgreSQL) and the in-process suite on PGlite: wrong types, missing fields, huge numbers, deep
 * nesting, 1 MB strings, SQL and script fragments, broken JSON - and every bounded field one past
 * its bound.
 */
const deep = (n: number): unknown => (n === 0 ? 'x' : [deep(n - 1)]);
const deepObject = (n: number): unknown => (n === 0 ? 1 : { a: deepObject(n - 1) });

export const HOSTILE: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 63,
  '',
  ' ',
  'NaN',
  '1e400',
  '9'.repeat(400),
  'x'.repeat(1024 * 1024),
  'a\u0000b',
  "'; drop table devices; --",
  "1' or '1'='1",
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '../../../../etc/passwd',
  '\ud800',
  [],
  {},
  [1, 2, 3],
  deep(2000),
  deepObject(500),
  { __proto__: { role: 'admin' } },
  { $where: '1' },
  "x' union select secret_hash from devices --",
  '"; select pg_sleep(10); --',
  '\\',
  '%',
  '_',
  "'||(select 1)||'",
];

export const RAW_BODIES = [
  'null',
  '[]',
  '"x"',
  '1',
  'true',
  '{',
  '{"a":',
  '{"a":1}garbage',
  Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
  '['.repeat(60_000) + ']'.repeat(60_000),
  JSON.stringify({ s: 'x'.repeat(1024 * 1024) }),
  '{"__proto__":{"admin":true}}',
  '{"email":' + '"a",'.repeat(10_000) + '}',
];

export const HOSTILE_QUERY = [
  "'",
  "1' or '1'='1",
  '-1',
  '0',
  '1e308',
  '99999999999999999999',
  'NaN',
  '%00',
  '<script>',
  'a'.repeat(5000),
  '../etc/passwd',
  '{}',
  '[]',
  'null',
  '%ZZ',
  "x' union select secret_hash from devices --",
  '\\',
  '%',
  '_',
  "'; select pg_sleep(10); --",
];

export function leaves(value: unknown, path: string[] = []): string[][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => [[...path, k], ...leaves(v, [...path, k])]);
  }
  return [];
}

export function withValue(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

export interface Case {
  route: Route;
  path: string;
  query?: string;
  body?: string | Buffer;
  contentType?: string;
  /** What the case is, for failure messages. */
  what?: string;
}

const parsesTo = (raw: string | Buffer): unknown => {
  try {
    return JSON.parse(raw.toString());
  } catch {
    return Symbol('not json');
  }
};

/** A valid-looking body for each route, whose every field the fuzz then breaks. */
export function template(r: Route, deviceId: string): unknown {
  switch (r.path) {
    case '/api/v1/admin/login':
      return { email: 'admin@example.com', password: 'not the password' };
    case '/api/v1/enroll':
      return { enrollmentToken: 'mdmet_' + 'A'.repeat(43), device: sampleDevice(), fcmToken: 'fcm' };
    case '/api/v1/device/session':
      return { deviceId, deviceSecret: 'not the secret' };
    case '/api/v1/heartbeat':
      return {
        ...sampleHeartbeat(new Date()),
        events: [{ type: 'boot', at: new Date().toISOString(), data: { a: 1 } }],
        bootId: 'boot-1',
        seq: 3,
      };
    case '/api/v1/admin/commands':
      return {
        type: 'SET_CONFIG',
        params: { heartbeatIntervalSec: 120, kioskPackage: 'com.example.kiosk' },
        deviceIds: [deviceId],
        expiresInSec: 600,
      };
    case '/api/v1/commands/{id}/result':
      return { status: 'succeeded', output: 'ok', error: 'none' };
    case '/api/v1/admin/settings/alerts':
      return {
        thresholds: { lowBatteryPct: 10, holdSec: 60 },
        kinds: { app_down: { selfHeal: false } },
        channels: { discord: { enabled: false } },
      };
    case '/api/v1/admin/settings/alerts/test':
      return { channel: 'discord' };
    case '/api/v1/admin/devices/{id}':
      return { name: 'Kiosk', group: 'Fuzz', tags: ['a', 'b'] };
    case '/api/v1/admin/users':
      return { email: 'new.user@example.com', name: 'New', role: 'viewer', password: 'a long enough password' };
    case '/api/v1/admin/users/{id}':
      return { name: 'Renamed', role: 'operator', disabled: false };
    case '/api/v1/admin/releases/{id}/bad':
      return { reason: 'crashes on start' };
    case '/api/v1/admin/releases/register':
      // only the cases the schema refuses are sent: nothing is ever downloaded
      return { url: 'https://releases.example.com/app.apk', notes: 'fuzz', versionCode: 3 };
    case '/api/v1/admin/api-tokens':
      return { name: 'fuzz-token', scopes: ['devices:read'], expiresInSec: 3600 };
    case '/api/v1/admin/command-approvals/{id}/reject':
      return { reason: 'not today' };
    case '/api/v1/admin/packages/{packageName}/signer':
      return { signerSha256: 'b'.repeat(64), reason: 'key rotation' };
    default:
      return { label: 'fuzz', expiresInSec: 3600, group: 'Fuzz', tags: ['t'], maxUses: 2 };
  }
}

/** Every hostile case for these routes that its schema refuses (a valid body may legitimately write). */
export function hostileCases(routes: Route[], deviceId: string): Case[] {
  const out: Case[] = [];
  for (const r of routes) {
    if ((r as { upload?: unknown }).upload) continue; // file uploads take raw bytes, not JSON
    const path = r.path.replace(/\{\w+\}/g, deviceId);
    if (r.body) {
      const base = template(r, deviceId);
      const schema = r.body as z.ZodType;
      const bodies: unknown[] = [];
      for (const leaf of leaves(base)) {
        bodies.push(withValue(base, leaf, undefined));
        for (const v of HOSTILE) bodies.push(withValue(base, leaf, v));
      }
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
    if (r.path.includes('{')) {
      for (const v of HOSTILE_QUERY) out.push({ route: r, path: r.path.replace(/\{\w+\}/g, encodeURIComponent(v)) });
    }
  }
  return out;
}

type JsonSchema = {
  type?: string | string[];
  maxLength?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
};

/**
 * Every bounded field one past its bound: each string of the body and query with a maxLength gets
 * maxLength + 1 characters, each array with maxItems gets maxItems + 1 items. All must be refused.
 */
export function oversizedCases(routes: Route[], deviceId: string): Case[] {
  const out: Case[] = [];
  for (const r of routes) {
    if ((r as { upload?: unknown }).upload) continue;
    const path = r.path.replace(/\{\w+\}/g, deviceId);
    if (r.body) {
      const base = template(r, deviceId);
      const schema = z.toJSONSchema(r.body as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
      for (const leaf of leaves(base)) {
        const s = schemaAt(schema, leaf);
        if (!s) continue;
        const current = leaf.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], base);
        if (s.maxLength !== undefined && s.maxLength < 100_000) {
          out.push({
            route: r,
            path,
            body: JSON.stringify(withValue(base, leaf, 'x'.repeat(s.maxLength + 1))),
            what: `${leaf.join('.')} maxLength ${s.maxLength}`,
          });
        }
        if (s.maxItems !== undefined && Array.isArray(current) && current.length > 0 && s.maxItems < 10_000) {
          const items = Array.from({ length: s.maxItems + 1 }, () => current[0]);
          out.push({
            route: r,
            path,
            body: JSON.stringify(withValue(base, leaf, items)),
            what: `${leaf.join('.')} maxItems ${s.maxItems}`,
          });
        }
      }
    }
    if (r.query) {
      const schema = z.toJSONSchema(r.query as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
      for (const [key, s] of Object.entries(schema.properties ?? {})) {
        const max = s.maxLength ?? s.anyOf?.find((a) => a.maxLength !== undefined)?.maxLength;
        if (max !== undefined) out.push({ route: r, path, query: `${key}=${'x'.repeat(max + 1)}`, what: `?${key} maxLength ${max}` });
      }
    }
  }
  return out;
}

function schemaAt(schema: JsonSchema, path: string[]): JsonSchema | undefined {
  let s: JsonSchema | undefined = schema;
  for (const key of path) {
    s = s?.properties?.[key] ?? s?.anyOf?.map((a) => a.properties?.[key]).find(Boolean);
    if (!s) return undefined;
  }
  const plain = s?.anyOf?.find((a) => a.maxLength !== undefined || a.maxItems !== undefined);
  return plain ?? s;
}
