/** An API answer as the end-to-end tests read it. */
export interface ApiAnswer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Calls the server's API as an admin. `base` and `token` are read at each call: a test sets them once
 * its server has started and it has signed in. A Buffer body is sent as it is, with `contentType`.
 */
export function adminApi(base: () => string, token: () => string) {
  return async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiAnswer> => {
    const res = await fetch(base() + path, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json() };
  };
}

/** Polls `check` every 100 ms until it holds (true) or `timeoutMs` passed (false). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
