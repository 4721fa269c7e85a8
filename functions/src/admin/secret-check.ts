import { decrypt, deriveKey, encrypt } from '../core/crypto.js';
import type { Db } from '../ports/db.js';

const CHECK_TEXT = 'fleet-mdm secret check v1';

export class SecretMismatchError extends Error {
  override name = 'SecretMismatchError';
}

/**
 * Start-up consistency (both hosts call it before serving): the first start on a database stores a
 * value sealed with ENCRYPTION_KEY and an HMAC fingerprint of JWT_SECRET (table secret_check); every
 * later start opens the one and recomputes the other, and a server whose secrets do not match the
 * database's refuses to start with a message naming the secret. Returns whether it stored or matched.
 */
export async function checkSecrets(db: Db, secrets: { jwtSecret: string; encryptionKey: Buffer }): Promise<'stored' | 'matched'> {
  const key = deriveKey(secrets.encryptionKey, 'secret-check');
  const fingerprint = deriveKey(secrets.jwtSecret, 'jwt-fingerprint').toString('hex');
  const inserted = await db
    .insertInto('secret_check')
    .values({ id: true, sealed: encrypt(key, Buffer.from(CHECK_TEXT)), jwt_fingerprint: fingerprint })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return 'stored';
  const row = await db.selectFrom('secret_check').select(['sealed', 'jwt_fingerprint']).executeTakeFirstOrThrow();
  let opened: string;
  try {
    opened = decrypt(key, row.sealed).toString();
  } catch {
    opened = ''; // another key: the tag does not verify
  }
  const wrong = [opened !== CHECK_TEXT && 'ENCRYPTION_KEY', row.jwt_fingerprint !== fingerprint && 'JWT_SECRET'].filter(Boolean);
  if (wrong.length) {
    throw new SecretMismatchError(
      `${wrong.join(' and ')} ${wrong.length > 1 ? 'are' : 'is'} not the one this database was written with: ` +
        'start the server with the original secrets (standalone: DATA_DIR/secrets.json; Firebase: the secret manager). ' +
        'Refusing to start, since every session token would be refused and no sealed value could be opened.',
    );
  }
  return 'matched';
}
