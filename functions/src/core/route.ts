import type { z } from 'zod';
import type { Writable } from 'node:stream';

/**
 * A route is one row of the API table: method, path, who may call it, the schemas of what it takes
 * and returns, and a handler that calls one service method. The router enforces `auth` before any
 * input is read, so the table is the authorization policy; the OpenAPI document is generated from it.
 */
/** Where a stream's events go: one open Server-Sent Events response. */
export interface StreamSink {
  write(chunk: string): void;
  onClose(listener: () => void): void;
  /** Ends the stream from the server's side (a revoked session); a host without it keeps the stream open. */
  end?(): void;
  /** Bytes written that the client has not taken yet; a host without it never counts as behind. */
  buffered?(): number;
  /** Closes the connection at once, dropping what it still holds (a client too far behind to catch up). */
  cut?(): void;
}

/** The cookie the console's session travels in (set by the admin routes, read by the router). */
export const SESSION_COOKIE = 'mdm_session';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
export const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/**
 * `public`: anyone; `device`: a device access token; `metrics`: the metrics scraper's token
 * (METRICS_TOKEN); a role: an admin session of at least that role.
 */
export type Auth = 'public' | 'device' | 'metrics' | Role;
/** login/enroll/session: failures per client address; login_account: failed logins per account and address. */
export type RateLimitScope = 'login' | 'enroll' | 'session' | 'login_account' | 'channel_test';

export interface AdminActor {
  kind: 'admin';
  id: string;
  email: string;
  name: string;
  role: Role;
}
/**
 * What an API token may do. A route that names a scope is open to tokens holding it (and to admin
 * sessions of the route's role); a route without one is refused to every token.
 */
export const SCOPES = [
  'releases:read',
  'releases:write',
  'devices:read',
  'devices:write',
  'commands:read',
  'commands:write',
  'audit:read',
  'policies:read',
  'policies:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Every API token starts with this, so the router tells it from a session JWT without a lookup. */
export const API_TOKEN_PREFIX = 'mdmat_';

/** A caller holding a scoped API token (automation): audited under the token's name. */
export interface TokenActor {
  kind: 'token';
  id: string;
  name: string;
  scopes: readonly Scope[];
}
export interface DeviceActor {
  kind: 'device';
  deviceId: string;
}
export type ActorFor<A extends Auth, S extends Scope | undefined = undefined> = A extends 'public' | 'metrics'
  ? null
  : A extends 'device'
    ? DeviceActor
    : S extends Scope
      ? AdminActor | TokenActor
      : AdminActor;
/** An admin or a token: who a route open to tokens may be called by. */
export type StaffActor = AdminActor | TokenActor;

export interface HttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | undefined;
  /**
   * An upload route's body as it arrives, when the host streams it (standalone) instead of buffering
   * it into `body` (Firebase, whose framework has read it already). Read at most once.
   */
  bodyStream?: AsyncIterable<Uint8Array>;
  ip: string;
}

/** A file answered as it is read (ports/blob-store.ts's BlobFile): written whole to the response, or closed unread. */
export interface FileBody {
  size: number;
  pipeTo(dest: Writable): Promise<void>;
  close(): Promise<void>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | Buffer;
  /** A file sent as it is read (an APK download): `body` is empty and the host streams this instead. */
  file?: FileBody;
  /** A response that stays open (Server-Sent Events); hosts that cannot stream answer 404 instead. */
  stream?: (sink: StreamSink) => void;
}

export interface Reply {
  status: number;
  /** Keeps the response open and hands it to this function (text/event-stream). */
  stream?: (sink: StreamSink) => void;
  /** Serialized as JSON unless `text` is given. */
  body?: unknown;
  text?: string;
  /** Raw bytes (a file download); sent with `contentType`. */
  bytes?: Buffer;
  /** A stored file, streamed with its size as Content-Length (never held whole); sent with `contentType`. */
  file?: FileBody;
  contentType?: string;
  headers?: Record<string, string | string[]>;
}

export interface RouteContext<A extends Auth, B, Q, P, S extends Scope | undefined = undefined> {
  actor: ActorFor<A, S>;
  body: B;
  query: Q;
  params: P;
  ip: string;
  requestId: string;
  req: HttpRequest;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ResponseSpec {
  status: number;
  description: string;
  schema?: Schema;
  /** Defaults to application/json. */
  contentType?: string;
}

export interface RouteSpec<
  A extends Auth,
  B extends Schema | undefined,
  Q extends Schema | undefined,
  P extends Schema | undefined,
  S extends Scope | undefined = undefined,
> {
  method: Method;
  path: `/${string}`;
  auth: A;
  /** The scope an API token needs for this route; without one the route is refused to tokens. */
  scope?: S;
  summary: string;
  tag: string;
  /** The OpenAPI operationId when the one derived from the path would collide with another route's. */
  operationId?: string;
  body?: B;
  query?: Q;
  params?: P;
  rateLimit?: RateLimitScope;
  /** The body is a file, not JSON: these content types, up to maxBytes; the handler reads `req.bodyStream` or `req.body`. */
  upload?: { contentTypes: string[]; maxBytes: number };
  response: ResponseSpec;
  /** Other success answers the route may give (a WIPE waiting for approval: 202). */
  alternatives?: ResponseSpec[];
  /** Error statuses worth documenting beyond the ones every route can return. */
  errors?: number[];
  handler: (ctx: RouteContext<A, Out<B>, Out<Q>, Out<P>, S>) => Promise<Reply>;
}

export interface Route extends Omit<
  RouteSpec<Auth, Schema | undefined, Schema | undefined, Schema | undefined, Scope | undefined>,
  'handler'
> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: (ctx: RouteContext<Auth, any, any, any>) => Promise<Reply>;
}

export function route<
  A extends Auth,
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  P extends Schema | undefined = undefined,
  S extends Scope | undefined = undefined,
>(spec: RouteSpec<A, B, Q, P, S>): Route {
  return spec as unknown as Route;
}

export const json = (status: number, body: unknown, headers?: Record<string, string | string[]>): Reply =>
  headers ? { status, body, headers } : { status, body };
export const noContent = (): Reply => ({ status: 204 });
