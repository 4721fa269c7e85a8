import { get, post } from './api.js';
import { rememberFirebaseToken, signOutOfFirebase } from './live/firestore-source.js';
import { ROLE_RANK, type Admin, type ConsoleConfig, type Role } from './types.js';

/**
 * A server that makes an admin signed in with a generated password choose their own first says so
 * with `mustChangePassword` (and answers other admin routes 403 password_change_required). Optional:
 * servers before that feature never send it.
 */
type SignedIn = Admin & { mustChangePassword?: boolean };
interface LoginResponse {
  admin: SignedIn;
  firebaseToken: string | null;
}

/** Who is signed in, and the deployment's console configuration. The session itself is the HttpOnly cookie. */
class Session {
  admin = $state<SignedIn | null>(null);
  /** Signed in with a generated password: the console asks for a new one before anything else. */
  readonly mustChangePassword = $derived(this.admin?.mustChangePassword === true);
  /** True once the cookie was checked after a (re)load. */
  checked = $state(false);
  config = $state.raw<ConsoleConfig>({ liveSource: 'sse' });

  can(role: Role): boolean {
    return this.admin !== null && ROLE_RANK[this.admin.role] >= ROLE_RANK[role];
  }

  async restore(): Promise<void> {
    try {
      const [config, me] = await Promise.all([
        get<ConsoleConfig>('/console-config'),
        get<{ admin: SignedIn }>('/admin/me').catch(() => null),
      ]);
      this.config = config;
      this.admin = me?.admin ?? null;
    } catch {
      this.admin = null;
    } finally {
      this.checked = true;
    }
  }

  async login(email: string, password: string): Promise<void> {
    const res = await post<LoginResponse>('/admin/login', { email, password });
    rememberFirebaseToken(res.firebaseToken);
    this.admin = res.admin;
  }

  /** POST /admin/me/password: the server ends the other sessions and returns a new one. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const res = await post<LoginResponse>('/admin/me/password', { currentPassword, newPassword });
    rememberFirebaseToken(res.firebaseToken);
    this.admin = res.admin;
  }

  /** A request was refused with password_change_required: show the form. */
  passwordChangeRequired(): void {
    if (this.admin) this.admin = { ...this.admin, mustChangePassword: true };
  }

  async logout(): Promise<void> {
    try {
      await post('/admin/logout');
    } finally {
      rememberFirebaseToken(null);
      this.admin = null;
      await signOutOfFirebase(this.config).catch(() => undefined);
    }
  }

  /** The server said the session is gone (expired, disabled, signed out elsewhere). */
  expired(): void {
    this.admin = null;
    void signOutOfFirebase(this.config).catch(() => undefined);
  }
}

export const session = new Session();
