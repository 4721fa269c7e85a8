/** A small client of the admin API: JSON in and out, errors as the server words them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class AdminApi {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.requestText(method, path, body);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async requestText(method: string, path: string, body?: unknown): Promise<string> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `cannot reach ${this.url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return text;
    let code = 'http_' + res.status;
    let message = text.slice(0, 300) || res.statusText;
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (e?.code) code = e.code;
      if (e?.message) message = e.message;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.status, code, message);
  }
}
