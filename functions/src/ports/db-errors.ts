/** PostgreSQL error classification, for both pg and PGlite errors (both carry the SQLSTATE in `code`). */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const isUniqueViolation = (err: unknown, constraint?: string): boolean =>
  sqlState(err) === '23505' && (constraint === undefined || (err as { constraint?: string }).constraint === constraint);

/** An insert into a partitioned table whose partition for that key does not exist yet. */
export const isMissingPartition = (err: unknown): boolean =>
  sqlState(err) === '23514' && /no partition of relation/i.test(String((err as Error).message));

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is not open|Cannot use a pool after calling end/i;

/** True when the database could not be reached or refused work for capacity reasons (the client should retry). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const state = sqlState(err);
  if (state && (UNAVAILABLE_CODES.has(state) || state.startsWith('08'))) return true;
  return err instanceof Error && UNAVAILABLE_MESSAGES.test(err.message);
}

/** A deadlock or serialization failure: the statement was rolled back and can simply run again. */
export const isRetryableConflict = (err: unknown): boolean => sqlState(err) === '40P01' || sqlState(err) === '40001';
