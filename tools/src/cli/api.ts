import type { Page } from './api-types.js';

/** A refusal from the server (or no answer at all: status 0), with its stable code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What a 428 confirmation_required computed: resend it as the body's confirm. */
    readonly confirm?: { type: string; count: number },
  ) {
    super(message);
  }
}

/** A small client of the admin API: JSON in and out, errors as the server words them. */
export class AdminApi {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.requestText(method, path, body);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** Every item of a paged list, following nextCursor, up to `max` items. */
  async all<T>(path: string, max = 10_000): Promise<{ items: T[]; complete: boolean }> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res: Page<T> = await this.get<Page<T>>(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...res.items);
      cursor = res.nextCursor;
    } while (cursor && items.length < max);
    return { items, complete: !cursor };
  }

  /** Sends a file as the body (an APK upload); the answer is JSON. */
  async upload<T>(path: string, file: Buffer, contentType: string): Promise<T> {
    return JSON.parse(await this.requestText('POST', path, file, contentType)) as T;
  }

  async requestText(method: string, path: string, body?: unknown, fileType?: string): Promise<string> {
    let res: Response;
    const raw = fileType !== undefined && Buffer.isBuffer(body);
    try {
      res = await fetch(this.url + path, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': raw ? fileType : 'application/json' }),
        },
        body: body === undefined ? undefined : raw ? new Uint8Array(body as Buffer) : JSON.stringify(body),
        signal: AbortSignal.timeout(raw ? 600_000 : 30_000),
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `cannot reach ${this.url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return text;
    let code = 'http_' + res.status;
    let message = text.slice(0, 300) || res.statusText;
    let confirm: { type: string; count: number } | undefined;
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string; confirm?: { type: string; count: number } } }).error;
      if (e?.code) code = e.code;
      if (e?.message) message = e.message;
      if (e?.confirm && typeof e.confirm.count === 'number') confirm = e.confirm;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.status, code, message, confirm);
  }
}
