import { z } from 'zod';
import type { Route } from '../core/route.js';
import { errorBody } from '../core/schemas.js';

/** OpenAPI 3.1 document generated from the route table and its zod schemas. */
export function buildOpenApi(routes: Route[], info: { version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const operation: Record<string, unknown> = {
      operationId: r.operationId ?? operationId(r),
      summary: r.summary,
      tags: [r.tag],
      security: security(r),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: responses(r),
    };
    if (r.auth !== 'public' && r.auth !== 'device' && r.auth !== 'metrics') operation['x-required-role'] = r.auth;
    if (r.rateLimit) operation['x-rate-limited'] = `failed attempts per client address (${r.rateLimit})`;
    if (r.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } };
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Fleet MDM API',
      version: info.version,
      description: 'Device protocol v1 and the admin API. Errors are {"error":{"code","message"}}.',
    },
    servers: [{ url: info.serverUrl }],
    components: {
      securitySchemes: {
        adminBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Token from POST /api/v1/admin/login' },
        adminCookie: { type: 'apiKey', in: 'cookie', name: 'mdm_session' },
        deviceBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Token from POST /api/v1/device/session' },
        metricsBearer: { type: 'http', scheme: 'bearer', description: 'The METRICS_TOKEN setting' },
      },
      schemas: { Error: jsonSchema(errorBody, 'output') },
    },
    paths,
  };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function operationId(r: Route): string {
  const words = r.path
    .replace('/api/v1/', '')
    .split(/[/-]/)
    .filter((w) => w && !w.startsWith('{'));
  const name = words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  return `${r.method.toLowerCase()}${name[0]!.toUpperCase()}${name.slice(1)}${r.path.endsWith('}') ? 'ById' : ''}`;
}

function security(r: Route) {
  if (r.auth === 'public') return [];
  if (r.auth === 'device') return [{ deviceBearer: [] }];
  if (r.auth === 'metrics') return [{ metricsBearer: [] }];
  return [{ adminBearer: [] }, { adminCookie: [] }];
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

function responses(r: Route) {
  const ok = r.response;
  const content = ok.schema
    ? { 'application/json': { schema: jsonSchema(ok.schema, 'output') } }
    : ok.contentType
      ? { [ok.contentType]: { schema: { type: 'string' } } }
      : undefined;
  const out: Record<string, unknown> = { [String(ok.status)]: { description: ok.description, ...(content ? { content } : {}) } };
  for (const alt of r.alternatives ?? []) {
    out[String(alt.status)] = {
      description: alt.description,
      ...(alt.schema ? { content: { 'application/json': { schema: jsonSchema(alt.schema, 'output') } } } : {}),
    };
  }
  const errors = new Set([400, 500, ...(r.errors ?? [])]);
  if (r.auth !== 'public') errors.add(401);
  if (r.auth !== 'public' && r.auth !== 'device' && r.auth !== 'metrics') errors.add(403);
  if (r.body) [413, 415].forEach((s) => errors.add(s));
  for (const status of [...errors].sort()) {
    out[String(status)] = {
      description: ERROR_TEXT[status] ?? 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request',
  401: 'Not authenticated, or wrong credentials',
  403: 'Role not allowed',
  404: 'Not found',
  409: 'Conflict with the current state',
  410: 'Gone (revoked or expired)',
  413: 'Body over 64 KiB',
  415: 'Body is not application/json',
  428: 'Confirmation required: resend with the computed confirm object from the error',
  429: 'Too many failed attempts; see Retry-After',
  500: 'Internal error',
};
