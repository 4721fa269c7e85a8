import type { Auth } from 'firebase-admin/auth';
import type { Role } from '../../core/route.js';
import type { ConsoleTokens } from '../../ports/console-tokens.js';
import type { Logger } from '../../ports/logger.js';

/** Never fails a sign-in: without a token the console still works, only without the live view. */
export class FirebaseConsoleTokens implements ConsoleTokens {
  constructor(
    private readonly auth: Pick<Auth, 'createCustomToken' | 'revokeRefreshTokens'>,
    private readonly logger: Logger,
  ) {}

  async mint(admin: { id: string; role: Role }): Promise<string | null> {
    try {
      return await this.auth.createCustomToken(admin.id, { role: admin.role });
    } catch (err) {
      this.logger.warn('could not mint a Firebase token for the console', { admin: admin.id, err });
      return null;
    }
  }

  /**
   * Revokes the admin's Firebase refresh tokens: no new ID token can be had, and ID tokens issued
   * before now fail `verifyIdToken(t, true)` and rules that compare auth.token.auth_time. A user that
   * never signed in to Firebase (auth/user-not-found) has nothing to revoke.
   */
  async revoke(adminId: string): Promise<void> {
    try {
      await this.auth.revokeRefreshTokens(adminId);
    } catch (err) {
      if ((err as { code?: string }).code === 'auth/user-not-found') return;
      this.logger.error('could not revoke the Firebase sessions of an admin', { admin: adminId, err });
    }
  }
}
