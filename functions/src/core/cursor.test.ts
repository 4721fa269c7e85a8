import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from './cursor.js';

describe('keyset cursors', () => {
  it('round-trips a (time, id) cursor, and none means the first page', () => {
    const at = new Date('2026-11-29T01:02:03.456Z');
    expect(decodeTimeCursor(encodeTimeCursor(at, '6c3a2b1e-0000-4000-8000-000000000001'))).toEqual({
      at,
      id: '6c3a2b1e-0000-4000-8000-000000000001',
    });
    expect(decodeTimeCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'not a cursor!'],
    ['an array', Buffer.from('[1,2]').toString('base64url')],
    ['a bad time', encodeCursor({ t: 'yesterday', id: 'a1' })],
    ['a numeric id', encodeCursor({ t: '2026-11-29T00:00:00Z', id: 7 })],
    ["another list's cursor", encodeCursor({ id: 42 })],
    ['an id that is not a UUID', encodeCursor({ t: '2026-11-29T00:00:00Z', id: "x' OR 1=1" })],
    ['an over-long id', encodeCursor({ t: '2026-11-29T00:00:00Z', id: 'a'.repeat(5000) })],
  ])('refuses %s with a 400 invalid_cursor', (_, cursor) => {
    let thrown: unknown;
    try {
      decodeTimeCursor(cursor);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ status: 400, code: 'invalid_cursor' });
  });

  it('reads other shapes through decodeCursor', () => {
    expect(decodeCursor(encodeCursor({ id: 42 }), (c) => (typeof c.id === 'number' ? c.id : null))).toBe(42);
  });
});
