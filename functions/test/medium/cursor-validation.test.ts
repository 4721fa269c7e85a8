import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/core/cursor.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** A cursor that decodes but names no row id (not a UUID) is the client's error: 400, never 500. */
describe('list cursors with a malformed id', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    token = await t.loginAs('viewer');
  });
  afterAll(() => t.close());

  const bad = [encodeCursor({ t: '2026-03-10T12:00:00Z', id: 'not-a-uuid' }), encodeCursor({ id: 'not-a-uuid' })];
  it.each([
    '/api/v1/admin/devices',
    '/api/v1/admin/fleet',
    '/api/v1/admin/alerts',
    '/api/v1/admin/commands',
    '/api/v1/admin/enrollment-tokens',
  ])('%s answers 400 invalid_cursor', async (path) => {
    for (const cursor of bad) {
      const res = await t.request('GET', `${path}?cursor=${cursor}`, { token });
      if (res.status === 403) return; // a viewer may not list this one; the shape is checked elsewhere
      expect(res.status, `${path} ${cursor}`).toBe(400);
      expect((res.json as { error: { code: string } }).error.code).toBe('invalid_cursor');
    }
    expect(t.logs.lines.filter((e) => e.severity === 'ERROR')).toEqual([]);
  });
});
