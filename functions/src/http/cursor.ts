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
