/**
 * Typed errors carrying an HTTP status and a stable code. The router maps them to
 * `{"error":{"code","message"}}`; anything else becomes a 500 with no internals.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra fields of the error object a client acts on (e.g. the computed `confirm` of a 428). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new AppError(400, code, message);
export const unauthorized = (code: string, message: string) => new AppError(401, code, message);
export const forbidden = (message = 'your role does not allow this') => new AppError(403, 'forbidden', message);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const gone = (code: string, message: string) => new AppError(410, code, message);
export const tooManyRequests = (retryAfterSec: number, what = 'too many failed attempts') =>
  new AppError(429, 'rate_limited', `${what}; retry in ${retryAfterSec} s`, {
    'retry-after': String(retryAfterSec),
  });
export const serviceUnavailable = (retryAfterSec: number, message = 'the database is unavailable; retry shortly') =>
  new AppError(503, 'unavailable', message, { 'retry-after': String(retryAfterSec) });
