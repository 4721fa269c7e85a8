import { badRequest } from './errors.js';

/** Opaque keyset cursors: base64url JSON. A cursor that does not decode is the client's error (400). */
export function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, read: (value: Record<string, unknown>) => T | null): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  const decoded = value && typeof value === 'object' && !Array.isArray(value) ? read(value as Record<string, unknown>) : null;
  if (decoded === null) throw badRequest('invalid_cursor', 'the cursor is not one this server issued');
  return decoded;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** True for a row id (a UUID): anything else in a cursor would reach the database as a bad uuid (a 500). */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/** The cursor of a list ordered by (a time, id) descending: where the next page starts. */
export const encodeTimeCursor = (at: Date, id: string): string => encodeCursor({ t: at.toISOString(), id });

/** Reads a cursor made by `encodeTimeCursor`; undefined when there is none (the first page). */
export function decodeTimeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  return decodeCursor(cursor, (c) =>
    typeof c.t === 'string' && isUuid(c.id) && !Number.isNaN(Date.parse(c.t)) ? { at: new Date(c.t), id: c.id } : null,
  );
}
