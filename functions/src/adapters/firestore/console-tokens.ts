import type { Auth } from 'firebase-admin/auth';
import type { Role } from '../../core/route.js';
import type { ConsoleTokens } from '../../ports/console-tokens.js';
import type { Logger } from '../../ports/logger.js';

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
