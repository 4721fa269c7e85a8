import { generateKeyPairSync } from 'node:crypto';
import { cert, deleteApp, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { afterAll, describe, expect, it } from 'vitest';
import { FirebaseConsoleTokens } from './console-tokens.js';
import { noConsoleTokens } from '../../ports/console-tokens.js';
import { memoryLogger } from '../logging/logger.js';

/** A throwaway service account: firebase-admin signs custom tokens locally with its key, no network. */
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const app = initializeApp(
  {
    credential: cert({
      projectId: 'demo-mdm',
      clientEmail: 'mdm-test@demo-mdm.iam.gserviceaccount.com',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    }),
    projectId: 'demo-mdm',
  },
  'console-tokens-test',
);
afterAll(() => deleteApp(app));

describe('console tokens', () => {
  it('mints a Firebase custom token for the admin with the role as a claim', async () => {
    const token = (await new FirebaseConsoleTokens(getAuth(app), memoryLogger()).mint({ id: 'admin-42', role: 'operator' }))!;
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.alg).toBe('RS256');
    expect(payload).toMatchObject({
      uid: 'admin-42',
      claims: { role: 'operator' },
      iss: 'mdm-test@demo-mdm.iam.gserviceaccount.com',
      aud: 'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit',
    });
    // signed with the service account's key
    const { createVerify } = await import('node:crypto');
    const [h, p, s] = token.split('.');
    expect(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s!, 'base64url'))).toBe(true);
  });

  it('answers null instead of failing the sign-in when it cannot mint', async () => {
    const logs = memoryLogger();
    const broken = new FirebaseConsoleTokens(
      { createCustomToken: async () => Promise.reject(new Error('no credentials')), revokeRefreshTokens: async () => {} },
      logs,
    );
    expect(await broken.mint({ id: 'a', role: 'viewer' })).toBeNull();
    expect(logs.lines.some((l) => l.message === 'could not mint a Firebase token for the console')).toBe(true);
  });

  it('revokes the refresh tokens of an admin, ignores a user that never signed in to Firebase, and never throws', async () => {
    const revoked: string[] = [];
    const logs = memoryLogger();
    const fake = {
      createCustomToken: async () => 'unused',
      revokeRefreshTokens: async (uid: string) => {
        if (uid === 'never-signed-in') throw Object.assign(new Error('no user'), { code: 'auth/user-not-found' });
        if (uid === 'broken') throw new Error('network down');
        revoked.push(uid);
      },
    };
    const tokens = new FirebaseConsoleTokens(fake, logs);
    await tokens.revoke('admin-42');
    await tokens.revoke('never-signed-in');
    await tokens.revoke('broken');
    expect(revoked).toEqual(['admin-42']);
    expect(logs.lines.filter((l) => l.message === 'could not revoke the Firebase sessions of an admin')).toHaveLength(1);
    await noConsoleTokens.revoke('a');
  });

  it('mints nothing standalone', async () => {
    expect(await noConsoleTokens.mint({ id: 'a', role: 'admin' })).toBeNull();
  });
});
