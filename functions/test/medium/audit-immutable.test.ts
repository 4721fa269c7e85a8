import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAuditBefore } from '../../src/audit/index.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** The audit log refuses UPDATE and DELETE at the database level (before: any connection could rewrite it). */
describe.each(DB_KINDS)('append-only audit log on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
    await t.loginAs('admin'); // audited: logged_in
  });
  afterAll(() => t.close());

  const count = async () => Number((await sql<{ n: string }>`select count(*) as n from audit_log`.execute(t.db.db)).rows[0]!.n);

  it('refuses UPDATE, DELETE and TRUNCATE from any connection', async () => {
    const before = await count();
    expect(before).toBeGreaterThan(0);
    await expect(t.db.db.updateTable('audit_log').set({ actor_name: 'someone else' }).execute()).rejects.toThrow(/append-only/);
    await expect(t.db.db.deleteFrom('audit_log').execute()).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(t.db.db)).rejects.toThrow(/append-only/);
    // a session setting outside the retention path's own transaction does not open it for UPDATE
    await expect(
      t.db.db.transaction().execute(async (trx) => {
        await sql`select set_config('mdm.audit_retention', 'on', true)`.execute(trx);
        await trx.updateTable('audit_log').set({ actor_name: 'x' }).execute();
      }),
    ).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
  });

  it('lets the retention path delete old entries, and only in its own transaction', async () => {
    const before = await count();
    expect(await pruneAuditBefore(t.db.db, new Date(t.clock.now().getTime() - 86_400_000))).toBe(0);
    expect(await pruneAuditBefore(t.db.db, new Date(t.clock.now().getTime() + 1000))).toBe(before);
    await expect(t.db.db.deleteFrom('audit_log').execute()).resolves.toBeDefined(); // nothing left to refuse
    await t.loginAs('admin');
    await expect(t.db.db.deleteFrom('audit_log').execute()).rejects.toThrow(/append-only/);
  });
});
