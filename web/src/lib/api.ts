/**
 * The console's only door to the backend: same-origin JSON over fetch. The session is the HttpOnly
 * cookie the login sets, so a reload keeps it and no token is ever readable by scripts.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** A 428 confirmation_required: the type and device count the server computed, to show and send back. */
    readonly confirm?: { type: string; count: number },
  ) {
    super(message);
  }
}

/** Called when any request finds the session gone, so the app can send the operator to sign in. */
let onUnauthenticated: (() => void) | undefined;
export const setUnauthenticatedHandler = (fn: () => void) => (onUnauthenticated = fn);
/** Called when the server wants a generated password changed before anything else. */
let onPasswordChange: (() => void) | undefined;
export const setPasswordChangeHandler = (fn: () => void) => (onPasswordChange = fn);

export async function api<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection; the console retries on its own.');
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const payload: unknown = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const error = (payload as { error?: { code?: string; message?: string; confirm?: { type: string; count: number } } } | null)?.error;
    if (res.status === 401 && !path.startsWith('/admin/login')) onUnauthenticated?.();
    if (res.status === 403 && error?.code === 'password_change_required') onPasswordChange?.();
    throw new ApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? `The server answered ${res.status}.`, error?.confirm);
  }
  return payload as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => api<T>('GET', path, undefined, signal ? { signal } : {});
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T = void>(path: string) => api<T>('DELETE', path);

/** A query string from the defined values only. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** What to tell the operator about a failed request. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return 'Your role does not allow this. Ask an admin.';
    if (err.status === 503) return 'The database is briefly unavailable. Try again in a few seconds.';
    return err.message;
  }
  return (err as Error)?.message ?? String(err);
}
