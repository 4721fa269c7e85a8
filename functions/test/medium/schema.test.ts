import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introspectColumns, renderSchema } from '../../src/adapters/postgres/codegen.js';
import { migrateToLatest } from '../../src/adapters/postgres/migrate.js';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '../helpers/db.js';

const GENERATED = fileURLToPath(new URL('../../src/ports/schema.generated.ts', import.meta.url));

describe.each(DB_KINDS)('schema on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(() => db.close());

  // `npm run db:codegen` runs this test with UPDATE_SCHEMA=1 to rewrite the file.
  it('matches the Kysely Database interface in schema.generated.ts', async () => {
    const rendered = renderSchema(await introspectColumns(db.db));
    if (process.env.UPDATE_SCHEMA === '1' && kind === 'pglite') await writeFile(GENERATED, rendered);
    expect(rendered).toBe(await readFile(GENERATED, 'utf8'));
  });

  it('detects drift: a column the interface does not declare changes the rendering', async () => {
    await sql`alter table admins add column nickname text`.execute(db.db);
    const rendered = renderSchema(await introspectColumns(db.db));
    await sql`alter table admins drop column nickname`.execute(db.db);
    expect(rendered).not.toBe(await readFile(GENERATED, 'utf8'));
    expect(rendered).toContain('nickname: string | null;');
  });

  it('migrating again applies nothing', async () => {
    expect(await migrateToLatest(db.db)).toEqual([]);
  });
});
