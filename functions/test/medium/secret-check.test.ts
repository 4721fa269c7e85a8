import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSecrets, SecretMismatchError } from '../../src/admin/index.js';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '../helpers/db.js';

/**
 * Start-up consistency (before: a server started with another ENCRYPTION_KEY or JWT_SECRET than the
 * database was written with started with a warning, then answered 401 to every token and failed every sweep).
 */
describe.each(DB_KINDS)('secrets checked against the database at start on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(() => db.close());

  const original = { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32) };

  it('the first start stores the check; a start with the same secrets matches; no secret is stored', async () => {
    expect(await checkSecrets(db.db, original)).toBe('stored');
    expect(await checkSecrets(db.db, { ...original })).toBe('matched');
    const row = await db.db.selectFrom('secret_check').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(original.jwtSecret);
    expect(JSON.stringify(row)).not.toContain(original.encryptionKey.toString('base64'));
  });

  it('a start with another ENCRYPTION_KEY or JWT_SECRET refuses, naming the secret', async () => {
    const otherKey = checkSecrets(db.db, { ...original, encryptionKey: randomBytes(32) });
    await expect(otherKey).rejects.toThrow(SecretMismatchError);
    await expect(checkSecrets(db.db, { ...original, encryptionKey: randomBytes(32) })).rejects.toThrow(/^ENCRYPTION_KEY is not the one/);
    await expect(checkSecrets(db.db, { ...original, jwtSecret: 'another secret' })).rejects.toThrow(/^JWT_SECRET is not the one/);
    await expect(checkSecrets(db.db, { jwtSecret: 'x', encryptionKey: randomBytes(32) })).rejects.toThrow(
      /ENCRYPTION_KEY and JWT_SECRET are not/,
    );
  });
});
