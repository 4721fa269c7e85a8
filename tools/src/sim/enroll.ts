import { describeFailure, isRecord, type ApiResponse, type HttpClient } from './http-client.js';
import type { DeviceIdentity } from './identity.js';
import { parseEnrollment, type Enrollment } from './protocol.js';
import type { RequestKind, Stats } from './stats.js';

/** How the simulator gets its enrollment token: given, or created through the admin API. */
export type EnrollmentSource =
  { kind: 'token'; token: string } | { kind: 'admin'; adminToken?: string; email: string; password: string; group?: string };

/** A token only has to outlive the enrollment phase. */
const TOKEN_TTL_SEC = 3600;
const MAX_ATTEMPTS = 5;

export class SetupError extends Error {}

/** The enrollment token for `count` new devices (a multi-use token when created here). */
export async function obtainEnrollmentToken(client: HttpClient, source: EnrollmentSource, count: number): Promise<string> {
  if (source.kind === 'token') return source.token;
  if (source.adminToken === undefined && source.password === '') {
    throw new SetupError(`${count} devices need enrolling: give --token, --admin-token or an admin password (--password or MDM_PASSWORD)`);
  }
  const adminToken = source.adminToken ?? (await adminLogin(client, source.email, source.password));
  const body: Record<string, unknown> = { label: 'simulator', maxUses: count, expiresInSec: TOKEN_TTL_SEC };
  if (source.group !== undefined) body.group = source.group;
  const res = await withRetries(() => client.request('admin', 'POST', '/api/v1/admin/enrollment-tokens', body, adminToken));
  const token = isRecord(res.body) ? res.body.token : undefined;
  if (res.status !== 201 || typeof token !== 'string') {
    throw new SetupError(`creating an enrollment token failed: ${describeFailure(res)}`);
  }
  return token;
}

export async function adminLogin(client: HttpClient, email: string, password: string): Promise<string> {
  const res = await withRetries(() => client.request('admin', 'POST', '/api/v1/admin/login', { email, password }));
  const token = isRecord(res.body) ? res.body.token : undefined;
  if (res.status !== 200 || typeof token !== 'string') {
    throw new SetupError(`admin login as ${email} failed: ${describeFailure(res)}`);
  }
  return token;
}

/** `POST /api/v1/enroll`; null after counting the error when the server does not enroll it. */
export async function enrollDevice(
  client: HttpClient,
  stats: Stats,
  enrollmentToken: string,
  identity: DeviceIdentity,
  giveUp: () => boolean = () => false,
  fcmToken?: string,
): Promise<Enrollment | null> {
  const body = { enrollmentToken, device: identity, ...(fcmToken ? { fcmToken } : {}) };
  // Not retried on network errors: the server may have enrolled it, and a second try would take
  // another use of the token (one device too many, and the last device then gets a 409).
  const res = await withRetries(() => client.request('enroll', 'POST', '/api/v1/enroll', body), false, giveUp);
  const enrollment = res.status === 201 ? parseEnrollment(res.body) : null;
  if (!enrollment) countFailure(stats, 'enroll', res);
  return enrollment;
}

export function countFailure(stats: Stats, kind: RequestKind, res: ApiResponse): void {
  stats.error(kind, res.status >= 200 && res.status < 300 ? `http ${res.status} unexpected body` : describeFailure(res));
}

/**
 * Retries what the protocol says is worth retrying: 503 and 429 (after Retry-After, capped so a
 * long rate-limit window fails the run instead of hanging it) and network errors, with backoff.
 */
export async function withRetries(
  call: () => Promise<ApiResponse>,
  retryNetworkErrors = true,
  giveUp: () => boolean = () => false,
): Promise<ApiResponse> {
  let res = await call();
  for (let attempt = 1; attempt < MAX_ATTEMPTS && isTransient(res, retryNetworkErrors); attempt++) {
    const backoffSec = Math.min(10, res.retryAfterSec ?? 0.25 * 2 ** attempt);
    await new Promise((resolve) => setTimeout(resolve, backoffSec * 1000 * (0.75 + Math.random() / 2)));
    if (giveUp()) break;
    res = await call();
  }
  return res;
}

export function isTransient(res: ApiResponse, retryNetworkErrors: boolean): boolean {
  // A refused connection never reached the server, so even a non-idempotent call may go again.
  const networkRetry = res.status === 0 && (retryNetworkErrors || res.code === 'ECONNREFUSED');
  return networkRetry || res.status === 503 || res.status === 429;
}

/** Runs `worker` over `items` with at most `concurrency` at once; stops taking new ones when told. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stopped()) await worker(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
}
