import http from 'node:http';
import https from 'node:https';
import type { RequestKind, Stats } from './stats.js';

export interface ApiResponse {
  /** HTTP status, or 0 when no response came (network error, timeout). */
  status: number;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** The API's `error.code`, or the network error code when status is 0. */
  code: string | undefined;
  retryAfterSec: number | undefined;
}

export interface HttpClientOptions {
  maxSockets: number;
  timeoutMs: number;
}

/** `http 503 service_unavailable`, `net ECONNRESET`, `net timeout`: the key errors are counted under. */
export function describeFailure(r: ApiResponse): string {
  if (r.status === 0) return `net ${r.code ?? 'unknown'}`;
  return r.code ? `http ${r.status} ${r.code}` : `http ${r.status}`;
}

const TIMEOUT_CODE = 'timeout';

/**
 * JSON over node:http(s) with one keep-alive agent for the whole fleet, as thousands of devices
 * behind a NAT would look to the server, without paying a TCP handshake per heartbeat. Every
 * request's latency is recorded by kind. Deadlines are enforced by one sweep timer rather than a timer
 * per request, and failures resolve (never reject) so the hot path needs no try/catch.
 */
export class HttpClient {
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;
  readonly #hostname: string;
  readonly #port: string;
  readonly #basePath: string;
  readonly #timeoutMs: number;
  readonly #deadlines = new Map<http.ClientRequest, number>();
  readonly #sweep: NodeJS.Timeout;
  #idleWaiters: (() => void)[] = [];

  constructor(
    baseUrl: string,
    options: HttpClientOptions,
    private readonly stats: Stats,
  ) {
    const url = new URL(baseUrl);
    const secure = url.protocol === 'https:';
    this.#transport = secure ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = url.port;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#sweep = setInterval(() => this.#expire(), Math.min(250, options.timeoutMs)).unref();
  }

  get inFlight(): number {
    return this.#deadlines.size;
  }

  request(kind: RequestKind, method: string, path: string, body?: unknown, bearer?: string): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    const started = performance.now();
    return new Promise<ApiResponse>((resolve) => {
      let settled = false;
      const settle = (response: ApiResponse) => {
        if (settled) return;
        settled = true;
        this.#finished(req);
        resolve(response);
      };
      const req = this.#transport.request(
        { agent: this.#agent, hostname: this.#hostname, port: this.#port, method, path: this.#basePath + path, headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            this.stats.recordLatency(kind, performance.now() - started);
            settle(toResponse(res, text));
          });
          res.on('error', (err: NodeJS.ErrnoException) => settle(networkFailure(err)));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => settle(networkFailure(err)));
      // A connection cut mid-response may end the request without an 'error' on it.
      req.on('close', () => settle(networkFailure({ name: 'Error', message: 'aborted', code: 'aborted' })));
      this.#deadlines.set(req, started + this.#timeoutMs);
      req.end(payload);
    });
  }

  /** Resolves true once no request is in flight, false if that takes longer than `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = await Promise.race([idle, late]);
    clearTimeout(timer);
    return drained;
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const req of this.#deadlines.keys()) req.destroy(Object.assign(new Error('closed'), { code: 'closed' }));
    this.#agent.destroy();
  }

  #finished(req: http.ClientRequest): void {
    this.#deadlines.delete(req);
    if (this.#deadlines.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #expire(): void {
    const now = performance.now();
    for (const [req, deadline] of this.#deadlines) {
      if (deadline <= now) req.destroy(Object.assign(new Error('request timed out'), { code: TIMEOUT_CODE }));
    }
  }
}

function networkFailure(err: NodeJS.ErrnoException): ApiResponse {
  return { status: 0, body: undefined, code: err.code ?? err.message, retryAfterSec: undefined };
}

function toResponse(res: http.IncomingMessage, text: string): ApiResponse {
  let body: unknown;
  if (text.length > 0 && (res.headers['content-type'] ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  const retryAfter = Number(res.headers['retry-after']);
  return {
    status: res.statusCode ?? 0,
    body,
    code: errorCode(body),
    retryAfterSec: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
  };
}

/** `error.code` of the API's error shape `{"error":{"code","message"}}`. */
function errorCode(body: unknown): string | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const code = body.error.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
