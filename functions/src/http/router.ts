import { z } from 'zod';
import { withLogContext } from '../core/log-context.js';
import { type Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import { isDatabaseUnavailable, isRetryableConflict } from '../ports/db-errors.js';
import { AppError, forbidden, serviceUnavailable, tooManyRequests, unauthorized } from '../core/errors.js';
import type { FailureLimiter } from '../ports/failure-limiter.js';
import type { AuthFailureLog, AuthFailureScope } from '../ports/auth-failures.js';
import { header, requestContext, requestLogFields } from './request-context.js';
import { API_CSP } from './security-headers.js';
import {
  API_TOKEN_PREFIX,
  ROLE_RANK,
  SESSION_COOKIE,
  type AdminActor,
  type TokenActor,
  type DeviceActor,
  type HttpRequest,
  type HttpResponse,
  type Reply,
  type RateLimitScope,
  type Route,
} from '../core/route.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface Authenticator {
  admin(token: string): Promise<AdminActor | null>;
  device(token: string): Promise<DeviceActor | null>;
  /** A scoped API token (`mdmat_...`): null when unknown, revoked or expired. */
  apiToken?(token: string): Promise<TokenActor | null>;
  /** True for the metrics scraper's token (METRICS_TOKEN); absent or false: nobody may scrape. */
  metrics?(token: string): boolean;
}

/** Which requests get an access-log line (with `httpRequest`): every one, failed and slow ones, or none. */
export type AccessLog = 'all' | 'errors' | 'none';

export interface RouterDeps {
  auth: Authenticator;
  limiter: FailureLimiter;
  /** Counts each 401 per scope, address and minute for the audit log. */
  authFailures?: AuthFailureLog;
  logger: Logger;
  metrics?: Metrics;
  accessLog?: AccessLog;
  /** Google Cloud project, so log lines link to Cloud Trace (`projects/P/traces/T`). */
  traceProject?: string | undefined;
}

/**
 * Headers on every API response: JSON is never sniffed, framed, cached or given a referrer. The hosts
 * apply the same set to everything they write (security-headers.ts); these make the router's
 * responses safe on their own.
 */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': API_CSP,
};
const JSON_TYPE = 'application/json; charset=utf-8';
/** A request slower than this is logged even when access logs are limited to errors. */
const SLOW_REQUEST_SEC = 1;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A preflight's findings, kept by the router that issued it. */
interface Found {
  route: Route;
  params: Record<string, string>;
  actor: Actor;
  method: string;
  path: string;
}

type Actor = AdminActor | DeviceActor | TokenActor | null;

interface CompiledRoute {
  route: Route;
  segments: string[];
}

/**
 * What a preflight found from the headers alone: the route, its path parameters and the authenticated
 * caller. Handing it back to the handler with the full request saves matching and authenticating twice;
 * a handler trusts only the ones its own preflight issued.
 */
export interface Checked {
  /** Who is calling, for the hosts' per-caller caps (uploads); undefined for public routes. */
  caller?: string | undefined;
  /** The largest body this request may carry (uploads allow more than JSON). */
  bodyLimit: number;
}

export type Handler = ((req: HttpRequest, checked?: Checked) => Promise<HttpResponse>) & {
  /** The largest body a request to this method and path may carry (uploads allow more than JSON). */
  bodyLimit?: (method: string, path: string) => number;
  /**
   * True when the path is the server's, whatever the method: a route's path, or under a namespace
   * of the route table (the first segment of a route with more than one, e.g. `/api`). The console's
   * files and pages are served only where this is false (static-files.ts).
   */
  owns?: (path: string) => boolean;
  /**
   * Checks what the headers alone can decide - the route, the caller's credentials, CSRF - before a
   * host reads the body: a refusal (404/405/401/403) comes back as the response, so an unauthenticated
   * upload is answered at once and its body is never buffered. Otherwise what it found, to pass on with
   * the full request; undefined: nothing decided (no route, the database away) - the full request says.
   */
  preflight?: (req: Omit<HttpRequest, 'body'>) => Promise<HttpResponse | Checked | undefined>;
};

export function createRouter(routes: Route[], deps: RouterDeps): Handler {
  const exact = new Map<string, Route>();
  const patterns: CompiledRoute[] = [];
  for (const r of routes) {
    if (r.path.includes('{')) patterns.push({ route: r, segments: r.path.split('/') });
    else exact.set(`${r.method} ${r.path}`, r);
  }

  const match = (method: string, path: string): { route: Route; params: Record<string, string> } | { allow: string[] } => {
    const hit = exact.get(`${method} ${path}`);
    if (hit) return { route: hit, params: {} };
    const allow = new Set<string>();
    const parts = path.split('/');
    for (const candidate of patterns) {
      const params = matchSegments(candidate.segments, parts);
      if (!params) continue;
      if (candidate.route.method === method) return { route: candidate.route, params };
      allow.add(candidate.route.method);
    }
    for (const r of exact.values()) if (r.path === path) allow.add(r.method);
    return { allow: [...allow] };
  };

  const accessLog = deps.accessLog ?? 'errors';
  /** Counts and times the request, and writes its access-log line (inside the request's log context). */
  const observe = (req: HttpRequest, res: HttpResponse, route: Route | undefined, started: number) => {
    const seconds = (performance.now() - started) / 1000;
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    deps.metrics?.httpRequest(method, route?.path ?? '(unmatched)', res.status, seconds);
    const failed = res.status >= 400;
    if (accessLog === 'none' || (accessLog === 'errors' && !failed && seconds < SLOW_REQUEST_SEC)) return;
    const query = req.query.toString();
    const fields = {
      httpRequest: {
        requestMethod: req.method,
        requestUrl: query ? `${req.path}?${query}` : req.path,
        status: res.status,
        latency: `${seconds.toFixed(3)}s`,
        remoteIp: req.ip,
        userAgent: header(req, 'user-agent')?.slice(0, 256),
        // a streamed upload's size is what its header declared (the body went to the catalog's spool)
        requestSize: String(req.body?.length ?? (Number(header(req, 'content-length') ?? 0) || 0)),
        responseSize: String(Buffer.byteLength(res.body)),
      },
      route: route?.path,
    };
    const message = `${req.method} ${req.path} ${res.status}`;
    // a 503 is the database being away (its cause is logged once as a warning); other 5xx are bugs
    if (res.status >= 500 && res.status !== 503) deps.logger.error(message, fields);
    else if (res.status === 503 || seconds >= SLOW_REQUEST_SEC) deps.logger.warn(message, fields);
    else deps.logger.info(message, fields);
  };

  /** The preflights this router issued, with what they found (a caller cannot hand in its own). */
  const issued = new WeakMap<Checked, Found>();

  const handle: Handler = async function handle(req: HttpRequest, checked?: Checked): Promise<HttpResponse> {
    const ctx = requestContext(req);
    const pre = checked && issued.get(checked);
    return withLogContext(requestLogFields(ctx, deps.traceProject), async () => {
      const started = performance.now();
      const found: { route?: Route } = {};
      const response = await respond(req, ctx.requestId, found, pre?.method === req.method && pre.path === req.path ? pre : undefined);
      observe(req, response, found.route, started);
      return response;
    });
  };
  const namespaces = new Set(routes.filter((r) => r.path.split('/').length > 2).map((r) => r.path.split('/')[1]!));
  handle.owns = (path) => {
    if (namespaces.has(path.split('/')[1]!)) return true;
    if ([...exact.values()].some((r) => r.path === path)) return true;
    const parts = path.split('/');
    return patterns.some((p) => matchSegments(p.segments, parts) !== null);
  };
  handle.preflight = async (head) => {
    const found = match(head.method, head.path);
    if (!('route' in found)) return undefined; // the full request says why (404, 405)
    const req = { ...head, body: undefined };
    try {
      const actor = await authenticate(found.route, req, deps.auth);
      const checked: Checked = {
        caller:
          actor?.kind === 'admin'
            ? `admin:${actor.id}`
            : actor?.kind === 'device'
              ? `device:${actor.deviceId}`
              : actor?.kind === 'token'
                ? `token:${actor.id}`
                : undefined,
        bodyLimit: found.route.upload?.maxBytes ?? BODY_LIMIT_BYTES,
      };
      issued.set(checked, { ...found, actor, method: head.method, path: head.path });
      return checked;
    } catch (err) {
      if (err instanceof AppError && (err.status === 401 || err.status === 403)) {
        if (err.status === 401) await deps.authFailures?.record(failureScope(found.route), head.ip);
        const response = errorResponse(err, requestContext(req).requestId, found.route, deps.logger);
        observe(req, response, found.route, performance.now());
        return response;
      }
      return undefined; // anything else (the database away) is answered by the full request
    }
  };
  handle.bodyLimit = (method, path) => {
    const found = match(method, path);
    return 'route' in found && found.route.upload ? found.route.upload.maxBytes : BODY_LIMIT_BYTES;
  };
  return handle;

  async function forgive(scope: RateLimitScope, ip: string, requestId: string): Promise<void> {
    await deps.limiter.forgive(scope, ip).catch((e: unknown) => deps.logger.warn('could not un-count an attempt', { requestId, err: e }));
  }

  async function respond(req: HttpRequest, requestId: string, out: { route?: Route }, pre: Found | undefined): Promise<HttpResponse> {
    let route: Route | undefined;
    let counted: RateLimitScope | undefined;
    try {
      const found = pre ?? match(req.method, req.path);
      if (!('route' in found)) {
        if (found.allow.length === 0) throw new AppError(404, 'not_found', `no route for ${req.path}`);
        throw new AppError(405, 'method_not_allowed', `use ${found.allow.join(', ')}`, { allow: found.allow.join(', ') });
      }
      route = out.route = found.route;
      const limit = route.upload?.maxBytes ?? BODY_LIMIT_BYTES;
      if ((req.body && req.body.length > limit) || Number(header(req, 'content-length') ?? 0) > limit) {
        throw new AppError(413, 'payload_too_large', `request bodies are limited to ${limit} bytes`);
      }
      if (route.rateLimit) {
        // count, then work: the attempt is counted before anything checks it (ports/failure-limiter.ts)
        const verdict = await deps.limiter.attempt(route.rateLimit, req.ip);
        if (!verdict.allowed) throw tooManyRequests(verdict.retryAfterSec);
        counted = route.rateLimit;
      }
      // authenticated once: by the preflight from the same headers, or here
      const actor = pre ? pre.actor : await authenticate(route, req, deps.auth);
      const params = parse(route.params, found.params, 'path');
      const query = parse(route.query, Object.fromEntries(req.query), 'query');
      if (route.upload) checkUpload(req, route.upload.contentTypes);
      const body = route.body ? parse(route.body, readJson(req), 'body') : undefined;
      // the actor's kind matches the route: a token only reaches routes that name a scope (authenticate)
      const reply = await route.handler({ actor: actor as never, body, query, params, ip: req.ip, requestId, req });
      if (counted) await forgive(counted, req.ip, requestId);
      return toResponse(reply, requestId);
    } catch (err) {
      // only failures stay counted: a 401, or a 429 from a service's own limit
      const failed = err instanceof AppError && (err.status === 401 || err.status === 429);
      if (counted && !failed) await forgive(counted, req.ip, requestId);
      if (route && err instanceof AppError && err.status === 401) await deps.authFailures?.record(failureScope(route), req.ip);
      return errorResponse(err, requestId, route, deps.logger);
    }
  }
}

/** The audit's name for what failed on a route: its sign-in scope, or the kind of token it needs. */
function failureScope(route: Route): AuthFailureScope {
  if (route.rateLimit === 'login' || route.rateLimit === 'enroll' || route.rateLimit === 'session') return route.rateLimit;
  return route.auth === 'device' ? 'device_token' : route.auth === 'metrics' ? 'metrics_token' : 'admin_token';
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith('{')) {
      if (v === '') return null;
      try {
        params[p.slice(1, -1)] = decodeURIComponent(v);
      } catch {
        return null;
      }
    } else if (p !== v) return null;
  }
  return params;
}

function bearer(req: HttpRequest): string | undefined {
  const h = header(req, 'authorization');
  if (!h) return undefined;
  const m = /^Bearer ([\w.~+/=-]{1,4096})$/i.exec(h.trim());
  if (!m) throw unauthorized('invalid_authorization', 'expected "Authorization: Bearer <token>"');
  return m[1];
}

function cookie(req: HttpRequest, name: string): string | undefined {
  const h = header(req, 'cookie');
  if (!h) return undefined;
  for (const part of h.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function authenticate(route: Route, req: HttpRequest, auth: Authenticator): Promise<Actor> {
  if (route.auth === 'public') return null;
  if (route.auth === 'metrics') {
    const token = bearer(req);
    if (!token) throw unauthorized('unauthenticated', 'the metrics token is required (Authorization: Bearer <METRICS_TOKEN>)');
    if (!auth.metrics?.(token)) throw unauthorized('invalid_token', 'wrong metrics token, or METRICS_TOKEN is not set');
    return null;
  }
  if (route.auth === 'device') {
    const token = bearer(req);
    if (!token) throw unauthorized('unauthenticated', 'a device access token is required');
    const device = await auth.device(token);
    if (!device) throw unauthorized('invalid_token', 'the access token is invalid or expired');
    return device;
  }
  const fromHeader = bearer(req);
  if (fromHeader?.startsWith(API_TOKEN_PREFIX)) {
    // an API token: valid first (401), then the route's scope (403); a route without one is not for tokens
    const apiToken = (await auth.apiToken?.(fromHeader)) ?? null;
    if (!apiToken) throw unauthorized('invalid_token', 'the API token is unknown, revoked or expired');
    if (!route.scope) throw forbidden('this route is not open to API tokens; sign in as an admin');
    if (!apiToken.scopes.includes(route.scope)) throw forbidden(`this needs the ${route.scope} scope`);
    return apiToken;
  }
  const token = fromHeader ?? cookie(req, SESSION_COOKIE);
  if (!token) throw unauthorized('unauthenticated', 'sign in first');
  if (!fromHeader && !SAFE_METHODS.has(req.method)) checkSameOrigin(req);
  const admin = await auth.admin(token);
  if (!admin) throw unauthorized('invalid_token', 'the session is invalid or expired; sign in again');
  if (ROLE_RANK[admin.role] < ROLE_RANK[route.auth]) throw forbidden(`this needs the ${route.auth} role`);
  return admin;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF: a state-changing request authenticated by the session cookie must come from the console's own
 * origin - `Sec-Fetch-Site: same-origin`, or an `Origin` whose host is the request's Host. SameSite=Strict
 * keeps other sites' cookies out, not sibling subdomains or other ports of the same host. Bearer-token
 * callers (the CLI, scripts) carry no ambient credential and are not affected.
 */
function checkSameOrigin(req: HttpRequest): void {
  const site = header(req, 'sec-fetch-site');
  if (site === 'same-origin') return;
  const origin = header(req, 'origin');
  const host = header(req, 'host');
  if (!site && origin && host) {
    try {
      if (new URL(origin).host === host.toLowerCase()) return;
    } catch {
      // not a URL: refused below
    }
  }
  throw new AppError(403, 'cross_origin', 'a cookie-authenticated change must come from the console itself (same origin)');
}

function checkUpload(req: HttpRequest, types: string[]): void {
  const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!types.includes(type)) throw new AppError(415, 'unsupported_media_type', `send the file as ${types.join(' or ')}`);
  const declared = header(req, 'content-length');
  const empty = req.bodyStream ? declared !== undefined && Number(declared) === 0 : !req.body || req.body.length === 0;
  if (empty) throw new AppError(400, 'empty_body', 'the request body is empty');
}

function readJson(req: HttpRequest): unknown {
  const type = header(req, 'content-type') ?? '';
  // an empty body is {} only without a content type: a form or text/plain post is refused even empty
  if ((!req.body || req.body.length === 0) && type === '') return {};
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new AppError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  if (!req.body || req.body.length === 0) return {};
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new AppError(400, 'malformed_json', 'the request body is not valid JSON');
  }
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new AppError(400, 'invalid_request', `invalid ${where} - ${problems.join('; ')}`);
}

function toResponse(reply: Reply, requestId: string): HttpResponse {
  const headers: Record<string, string | string[]> = { ...BASE_HEADERS, 'x-request-id': requestId, ...reply.headers };
  if (reply.stream) {
    headers['content-type'] = 'text/event-stream; charset=utf-8';
    headers['x-accel-buffering'] = 'no';
    return { status: reply.status, headers, body: '', stream: reply.stream };
  }
  if (reply.text !== undefined) {
    headers['content-type'] = reply.contentType ?? 'text/plain; charset=utf-8';
    return { status: reply.status, headers, body: reply.text };
  }
  if (reply.bytes !== undefined) {
    headers['content-type'] = reply.contentType ?? 'application/octet-stream';
    return { status: reply.status, headers, body: reply.bytes };
  }
  if (reply.body === undefined) return { status: reply.status, headers, body: '' };
  headers['content-type'] = JSON_TYPE;
  return { status: reply.status, headers, body: JSON.stringify(reply.body) };
}

export function errorResponse(err: unknown, requestId: string, route: Route | undefined, logger: Logger): HttpResponse {
  let error = err;
  if (!(error instanceof AppError) && isDatabaseUnavailable(error)) {
    logger.warn('database unavailable', { requestId, route: route?.path, err: error });
    error = serviceUnavailable(5);
  } else if (!(error instanceof AppError) && isRetryableConflict(error)) {
    // a deadlock or serialization failure rolled the whole transaction back: nothing was written,
    // and the same request sent again will go through
    logger.warn('database conflict; the request was rolled back', { requestId, route: route?.path, err: error });
    error = serviceUnavailable(1, 'a conflicting change was being written at the same time; nothing was saved - retry');
  }
  if (error instanceof AppError) {
    return toResponse(
      {
        status: error.status,
        body: { error: { ...error.details, code: error.code, message: error.message } },
        headers: error.headers,
      },
      requestId,
    );
  }
  logger.error('unhandled error', { requestId, route: route ? `${route.method} ${route.path}` : undefined, err: error });
  return toResponse({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } }, requestId);
}
