import type { Auth } from 'firebase-admin/auth';
import type { Role } from '../http/route.js';
import type { Logger } from './logger.js';

/**
 * Mints what the admin console needs besides its session: in Firebase, a custom token carrying the
 * admin's role as a claim, which the console exchanges for a Firebase sign-in so Firestore's rules
 * let it read the live mirror. Standalone has no Firebase: no token (the console uses the event stream).
 */
export interface ConsoleTokens {
  mint(admin: { id: string; role: Role }): Promise<string | null>;
}

export const noConsoleTokens: ConsoleTokens = { mint: async () => null };

/** Never fails a sign-in: without a token the console still works, only without the live view. */
export class FirebaseConsoleTokens implements ConsoleTokens {
  constructor(
    private readonly auth: Pick<Auth, 'createCustomToken'>,
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
}
