import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryLogger } from '../adapters/logging/logger.js';
import { badRequest, unauthorized } from '../core/errors.js';
import { json, noContent, route, type AdminActor, type DeviceActor, type HttpRequest, type RateLimitScope } from '../core/route.js';
import { createRouter, type Authenticator, type Handler } from './router.js';
import type { FailureLimiter, LimitVerdict } from '../ports/failure-limiter.js';

const ID = '6f1c2b9e-4d3a-4e5f-8a7b-1c2d3e4f5a6b';
const admins: Record<string, AdminActor> = Object.fromEntries(
  (['viewer', 'operator', 'admin'] as const).map((role) => [
    `${role}-tok`,
    { kind: 'admin', id: role, email: `${role}@x.io`, name: role, role },
  ]),
);
const devices: Record<string, DeviceActor> = { 'device-tok': { kind: 'device', deviceId: 'dev-1' } };
/** Admin and device tokens are signed with different keys, so each side knows only its own tokens. */
const auth: Authenticator = { admin: async (t) => admins[t] ?? null, device: async (t) => devices[t] ?? null };

class FakeLimiter implements FailureLimiter {
  blocked = false; // attempt() refuses
  failRecording = false; // forgive() throws
  checks: string[] = [];
  /** Attempts counted and not forgiven: the failures. */
  failures: string[] = [];
  async attempt(scope: RateLimitScope, ip: string): Promise<LimitVerdict> {
    this.checks.push(`${scope}:${ip}`);
    if (this.blocked) return { allowed: false, retryAfterSec: 42 };
    this.failures.push(`${scope}:${ip}`);
    return { allowed: true };
  }
  async forgive(scope: RateLimitScope, ip: string) {
    if (this.failRecording) throw new Error('limiter store down');
    this.failures.splice(this.failures.indexOf(`${scope}:${ip}`), 1);
  }
  async clear() {}
  limitOf() {
    return { failures: 10, windowSec: 900 };
  }
  async prune() {
    return 0;
  }
}

const base = { summary: 's', tag: 't', response: { status: 200, description: 'd' } };
const routes = [
  route({
    method: 'GET',
    path: '/api/things',
    auth: 'public',
    ...base,
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), q: z.string().optional() }),
    handler: async ({ query, requestId }) => json(200, { query, requestId }),
  }),
  route({
    method: 'POST',
    path: '/api/things',
    auth: 'operator',
    summary: 's',
    tag: 't',
    response: { status: 201, description: 'd' },
    body: z.object({ name: z.string().min(1), device: z.object({ model: z.string() }).optional() }),
    handler: async ({ body, actor }) => json(201, { body, by: actor.id }),
  }),
  route({
    method: 'GET',
    path: '/api/things/{id}',
    auth: 'viewer',
    ...base,
    params: z.object({ id: z.uuid() }),
    handler: async ({ params, actor }) => json(200, { id: params.id, role: actor.role }),
  }),
  route({
    method: 'DELETE',
    path: '/api/things/{id}',
    auth: 'admin',
    summary: 's',
    tag: 't',
    response: { status: 204, description: 'd' },
    params: z.object({ id: z.uuid() }),
    handler: async () => noContent(),
  }),
  route({
    method: 'GET',
    path: '/api/files/{name}',
    auth: 'public',
    ...base,
    params: z.object({ name: z.string() }),
    handler: async ({ params }) => ({
      status: 200,
      text: `#!/bin/sh\necho ${params.name}\n`,
      contentType: 'text/x-shellscript; charset=utf-8',
    }),
  }),
  route({ method: 'GET', path: '/api/plain', auth: 'public', ...base, handler: async () => ({ status: 200, text: 'pong' }) }),
  route({
    method: 'POST',
    path: '/api/notes',
    auth: 'public',
    ...base,
    body: z.object({ note: z.string().default('none') }),
    handler: async ({ body }) => json(200, body),
  }),
  route({
    method: 'POST',
    path: '/api/device/ping',
    auth: 'device',
    ...base,
    handler: async ({ actor }) => json(200, { deviceId: actor.deviceId }),
  }),
  route({
    method: 'POST',
    path: '/api/login',
    auth: 'public',
    rateLimit: 'login',
    ...base,
    body: z.object({ outcome: z.enum(['ok', 'bad', 'invalid']) }),
    handler: async ({ body }) => {
      if (body.outcome === 'bad') throw unauthorized('invalid_credentials', 'wrong e-mail or password');
      if (body.outcome === 'invalid') throw badRequest('weak', 'nope');
      return json(200, { ok: true });
    },
  }),
  route({
    method: 'GET',
    path: '/api/boom/{kind}',
    auth: 'public',
    ...base,
    params: z.object({ kind: z.string() }),
    handler: async ({ params }) => {
      if (params.kind === 'refused') throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
      if (params.kind === 'shutdown') throw Object.assign(new Error('terminating connection'), { code: '57P01' });
      if (params.kind === 'deadlock') throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      throw new Error('db password hunter2 leaked');
    },
  }),
];

let limiter: FakeLimiter;
let logger: ReturnType<typeof memoryLogger>;
let handle: Handler;
beforeEach(() => {
  limiter = new FakeLimiter();
  logger = memoryLogger();
  handle = createRouter(routes, { auth, limiter, logger });
});

async function call(
  method: string,
  url: string,
  o: { headers?: Record<string, string>; body?: string | Buffer | object; ip?: string } = {},
) {
  const [path, qs = ''] = url.split('?');
  const body =
    o.body === undefined
      ? undefined
      : Buffer.isBuffer(o.body)
        ? o.body
        : Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
  const headers = {
    ...(typeof o.body === 'object' && !Buffer.isBuffer(o.body) ? { 'content-type': 'application/json' } : {}),
    ...o.headers,
  };
  const req: HttpRequest = { method, path: path!, query: new URLSearchParams(qs), headers, body, ip: o.ip ?? '198.51.100.7' };
  const res = await handle(req);
  const text = res.body.toString();
  const parsed = String(res.headers['content-type'] ?? '').startsWith('application/json') ? JSON.parse(text) : undefined;
  return { ...res, text, json: parsed };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('routing', () => {
  it('404 for an unknown path, in the error envelope', async () => {
    const res = await call('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { code: 'not_found', message: 'no route for /api/nope' } });
    expect((await call('GET', '/api/things/')).status).toBe(404);
  });

  it('405 with an allow header for a known path and another method', async () => {
    const exact = await call('PUT', '/api/things');
    expect(exact.status).toBe(405);
    expect(exact.json.error.code).toBe('method_not_allowed');
    expect(String(exact.headers.allow).split(', ').sort()).toEqual(['GET', 'POST']);
    const pattern = await call('PATCH', `/api/things/${ID}`);
    expect(pattern.status).toBe(405);
    expect(String(pattern.headers.allow).split(', ').sort()).toEqual(['DELETE', 'GET']);
  });

  it('decodes and validates path parameters', async () => {
    const file = await call('GET', '/api/files/hello%20w%C3%B6rld');
    expect(file.text).toBe('#!/bin/sh\necho hello wörld\n');
    expect((await call('GET', `/api/things/${ID}`, { headers: bearer('viewer-tok') })).json).toEqual({ id: ID, role: 'viewer' });
    const bad = await call('GET', '/api/things/not-a-uuid', { headers: bearer('viewer-tok') });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
    expect(bad.json.error.message).toMatch(/^invalid path - id: /);
  });

  it('parses the query with defaults and rejects invalid values naming the field', async () => {
    expect((await call('GET', '/api/things')).json.query).toEqual({ limit: 20 });
    expect((await call('GET', '/api/things?limit=5&q=a%20b&junk=1')).json.query).toEqual({ limit: 5, q: 'a b' });
    const bad = await call('GET', '/api/things?limit=500');
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^invalid query - limit: /);
  });
});

describe('bodies', () => {
  const op = bearer('operator-tok');
  it('413 for a body over 64 KiB, before anything else', async () => {
    const res = await call('POST', '/api/things', {
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(64 * 1024 + 1, 32),
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
    const atLimit = await call('POST', '/api/notes', {
      headers: { 'content-type': 'application/json' },
      body: `{"note":"${'x'.repeat(64 * 1024 - 11)}"}`,
    });
    expect(atLimit.status).toBe(200);
  });

  it('415 for a body that is not JSON; +json types are fine', async () => {
    const res = await call('POST', '/api/things', { headers: { ...op, 'content-type': 'text/plain' }, body: '{"name":"a"}' });
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe('unsupported_media_type');
    expect((await call('POST', '/api/things', { headers: op, body: '{"name":"a"}' })).status).toBe(415);
    const merge = await call('POST', '/api/things', {
      headers: { ...op, 'content-type': 'application/merge-patch+json; charset=utf-8' },
      body: '{"name":"a"}',
    });
    expect(merge.status).toBe(201);
  });

  it('400 malformed_json and 400 invalid_request naming the field', async () => {
    const malformed = await call('POST', '/api/things', { headers: { ...op, 'content-type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('malformed_json');
    const invalid = await call('POST', '/api/things', { headers: op, body: { name: 'a', device: { model: 7 } } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error).toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/^invalid body - device\.model: /),
    });
  });

  it('treats an empty body without a content type as {}, and refuses an empty one of another type (a CSRF form post)', async () => {
    expect((await call('POST', '/api/notes')).json).toEqual({ note: 'none' });
    expect((await call('POST', '/api/notes', { body: Buffer.alloc(0), headers: { 'content-type': 'application/json' } })).json).toEqual({
      note: 'none',
    });
    expect((await call('POST', '/api/notes', { body: Buffer.alloc(0), headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    const required = await call('POST', '/api/things', { headers: op });
    expect(required.status).toBe(400);
    expect(required.json.error.message).toContain('name');
  });
});

describe('authentication and authorization', () => {
  it('401 without a token, with a bad token, or with a malformed header', async () => {
    expect((await call('GET', `/api/things/${ID}`)).json.error.code).toBe('unauthenticated');
    expect((await call('GET', `/api/things/${ID}`, { headers: bearer('nope') })).json.error.code).toBe('invalid_token');
    const basic = await call('GET', `/api/things/${ID}`, { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    expect(basic.status).toBe(401);
    expect(basic.json.error.code).toBe('invalid_authorization');
  });

  it('checks authentication before reading any input', async () => {
    expect((await call('GET', '/api/things/not-a-uuid')).status).toBe(401);
    expect((await call('POST', '/api/things', { headers: { 'content-type': 'application/json' }, body: '{oops' })).status).toBe(401);
  });

  it('accepts the mdm_session cookie for admin routes', async () => {
    const res = await call('GET', `/api/things/${ID}`, { headers: { cookie: 'theme=dark; mdm_session=operator-tok; x=1' } });
    expect(res.status).toBe(200);
    expect(res.json.role).toBe('operator');
    expect((await call('GET', `/api/things/${ID}`, { headers: { cookie: 'other_session=operator-tok' } })).status).toBe(401);
  });

  it('403 when the role is too low; higher roles pass', async () => {
    const res = await call('POST', '/api/things', { headers: bearer('viewer-tok'), body: { name: 'a' } });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('forbidden');
    expect((await call('DELETE', `/api/things/${ID}`, { headers: bearer('operator-tok') })).status).toBe(403);
    const ok = await call('POST', '/api/things', { headers: bearer('admin-tok'), body: { name: 'a' } });
    expect(ok).toMatchObject({ status: 201, json: { body: { name: 'a' }, by: 'admin' } });
    expect(await call('DELETE', `/api/things/${ID}`, { headers: bearer('admin-tok') })).toMatchObject({ status: 204, text: '' });
  });

  it('device routes take only a device bearer token', async () => {
    expect((await call('POST', '/api/device/ping', { headers: bearer('device-tok') })).json).toEqual({ deviceId: 'dev-1' });
    expect((await call('POST', '/api/device/ping', { headers: bearer('admin-tok') })).status).toBe(401);
    expect((await call('POST', '/api/device/ping', { headers: { cookie: 'mdm_session=device-tok' } })).status).toBe(401);
    expect((await call('GET', `/api/things/${ID}`, { headers: bearer('device-tok') })).status).toBe(401);
  });
});

describe('preflight', () => {
  const head = (method: string, path: string, headers: Record<string, string>) => ({
    method,
    path,
    query: new URLSearchParams(),
    headers,
    ip: '198.51.100.7',
  });

  it('authenticates once: the full request reuses what the preflight found', async () => {
    let calls = 0;
    const counting: Authenticator = { ...auth, admin: async (t) => (calls++, admins[t] ?? null) };
    const h = createRouter(routes, { auth: counting, limiter, logger });
    const checked = await h.preflight!(head('POST', '/api/things', bearer('operator-tok')));
    expect(checked).toEqual({ caller: 'admin:operator', bodyLimit: 64 * 1024 });
    expect(calls).toBe(1);
    const req = {
      ...head('POST', '/api/things', { ...bearer('operator-tok'), 'content-type': 'application/json' }),
      body: Buffer.from('{"name":"a"}'),
    };
    const res = await h(req, checked as never);
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body.toString())).toMatchObject({ by: 'operator' });
    expect(calls).toBe(1);
  });

  it('trusts only its own findings, for the same method and path', async () => {
    let calls = 0;
    const counting: Authenticator = { ...auth, admin: async (t) => (calls++, admins[t] ?? null) };
    const h = createRouter(routes, { auth: counting, limiter, logger });
    // a made-up one is ignored: the request is authenticated and refused
    const forged = { caller: 'admin:admin', bodyLimit: 64 * 1024 };
    const body = Buffer.from('{"name":"a"}');
    const refused = await h({ ...head('POST', '/api/things', { 'content-type': 'application/json' }), body }, forged);
    expect(refused.status).toBe(401);
    // one issued for another path is not reused either
    const other = await h.preflight!(head('GET', `/api/things/${ID}`, bearer('viewer-tok')));
    const moved = await h(
      { ...head('POST', '/api/things', { ...bearer('viewer-tok'), 'content-type': 'application/json' }), body },
      other as never,
    );
    expect(moved.status).toBe(403);
    expect(calls).toBe(2);
  });

  it('answers a refused caller from the headers and leaves unknown paths to the full request', async () => {
    const refused = await handle.preflight!(head('POST', '/api/things', bearer('nope')));
    expect(refused).toMatchObject({ status: 401 });
    expect(await handle.preflight!(head('GET', '/api/nowhere', {}))).toBeUndefined();
  });
});

describe('rate-limited routes', () => {
  const login = (outcome: string) => call('POST', '/api/login', { body: { outcome }, ip: '203.0.113.9' });
  it('429 with retry-after when the limiter refuses, without calling the handler', async () => {
    limiter.blocked = true;
    const res = await login('bad');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('42');
    expect(res.json.error.code).toBe('rate_limited');
    expect(limiter.checks).toEqual(['login:203.0.113.9']);
    expect(limiter.failures).toEqual([]);
  });

  it('counts every attempt before the handler, and keeps the count for a 401 only', async () => {
    expect((await login('ok')).status).toBe(200);
    expect((await login('invalid')).status).toBe(400);
    expect(limiter.failures).toEqual([]);
    expect((await login('bad')).status).toBe(401);
    expect(limiter.failures).toEqual(['login:203.0.113.9']);
    expect(limiter.checks).toHaveLength(3);
  });

  it('still answers when un-counting a success fails, and logs it', async () => {
    limiter.failRecording = true;
    expect((await login('ok')).status).toBe(200);
    expect(logger.lines.some((l) => l.message === 'could not un-count an attempt')).toBe(true);
  });

  it('does not consult the limiter on other routes', async () => {
    await call('GET', '/api/things');
    expect(limiter.checks).toEqual([]);
  });
});

describe('errors', () => {
  it('500 with a generic body for an unexpected Error, logged with its message', async () => {
    const res = await call('GET', '/api/boom/x', { headers: { 'x-request-id': 'req-500' } });
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(res.text).not.toContain('hunter2');
    const entry = logger.lines.find((l) => l.message === 'unhandled error') as Record<string, any>;
    expect(entry).toMatchObject({ severity: 'ERROR', requestId: 'req-500', route: 'GET /api/boom/{kind}' });
    expect(entry.err.message).toBe('db password hunter2 leaked');
  });

  it.each(['refused', 'shutdown'])('503 with retry-after when the database is unavailable (%s)', async (kind) => {
    const res = await call('GET', `/api/boom/${kind}`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json.error.code).toBe('unavailable');
    expect(res.text).not.toContain('10.0.0.5');
    // the cause once, and the request's access-log line (which carries httpRequest)
    expect(logger.lines.filter((l) => !l.httpRequest).map((l) => l.severity)).toEqual(['WARNING']);
    expect(logger.lines.find((l) => l.httpRequest)).toMatchObject({ severity: 'WARNING', httpRequest: { status: 503 } });
  });

  it('503 with a short retry-after when a deadlock rolled the request back', async () => {
    const res = await call('GET', '/api/boom/deadlock');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json.error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('nothing was saved') });
    expect(logger.lines.filter((l) => !l.httpRequest).map((l) => l.severity)).toEqual(['WARNING']);
  });
});

describe('response headers', () => {
  const cases = [
    ['GET', '/api/things'],
    ['GET', '/api/nope'],
    ['GET', '/api/boom/x'],
    ['GET', '/api/plain'],
    ['PUT', '/api/things'],
  ];
  it.each(cases)('security headers and x-request-id on %s %s', async (method, path) => {
    const res = await call(method!, path!);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const safe = await call('GET', '/api/things', { headers: { 'x-request-id': 'lb-1234.abc:9_z' } });
    expect(safe.headers['x-request-id']).toBe('lb-1234.abc:9_z');
    expect(safe.json.requestId).toBe('lb-1234.abc:9_z');
    for (const unsafe of ['a b', 'x\r\nset-cookie: a=b', '<script>', 'x'.repeat(129)]) {
      const res = await call('GET', '/api/things', { headers: { 'x-request-id': unsafe } });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(res.json.requestId).toBe(res.headers['x-request-id']);
    }
  });

  it('keeps the content type of text replies; JSON replies are application/json', async () => {
    expect((await call('GET', '/api/files/x')).headers['content-type']).toBe('text/x-shellscript; charset=utf-8');
    expect(await call('GET', '/api/plain')).toMatchObject({ text: 'pong', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect((await call('GET', '/api/things')).headers['content-type']).toBe('application/json; charset=utf-8');
  });
});
