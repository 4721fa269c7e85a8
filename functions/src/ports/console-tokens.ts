import type { Role } from '../core/route.js';

/**
 * Mints what the admin console needs besides its session: in Firebase, a custom token carrying the
 * admin's role as a claim, which the console exchanges for a Firebase sign-in so Firestore's rules
 * let it read the live mirror. Standalone has no Firebase: no token (the console uses the event stream).
 */
export interface ConsoleTokens {
  mint(admin: { id: string; role: Role }): Promise<string | null>;
  /**
   * Ends the admin's Firebase sign-ins (refresh tokens revoked): called on sign-out, password change,
   * disable and role change, so a demoted or disabled admin stops reading the mirror within the hour
   * an ID token lives (the rules can also check auth_time). Never throws.
   */
  revoke(adminId: string): Promise<void>;
}

export const noConsoleTokens: ConsoleTokens = { mint: async () => null, revoke: async () => {} };
