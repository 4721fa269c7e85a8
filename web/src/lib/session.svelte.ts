import { get, post } from './api.js';
import { rememberFirebaseToken } from './live/firestore-source.js';
import { ROLE_RANK, type Admin, type ConsoleConfig, type Role } from './types.js';

/** Who is signed in, and the deployment's console configuration. The session itself is the HttpOnly cookie. */
class Session {
  admin = $state<Admin | null>(null);
  /** True once the cookie was checked after a (re)load. */
  checked = $state(false);
  config = $state.raw<ConsoleConfig>({ liveSource: 'sse' });

  can(role: Role): boolean {
    return this.admin !== null && ROLE_RANK[this.admin.role] >= ROLE_RANK[role];
  }

  async restore(): Promise<void> {
    try {
      const [config, me] = await Promise.all([get<ConsoleConfig>('/console-config'), get<{ admin: Admin }>('/admin/me').catch(() => null)]);
      this.config = config;
      this.admin = me?.admin ?? null;
    } catch {
      this.admin = null;
    } finally {
      this.checked = true;
    }
  }

  async login(email: string, password: string): Promise<void> {
    const res = await post<{ admin: Admin; firebaseToken: string | null }>('/admin/login', { email, password });
    rememberFirebaseToken(res.firebaseToken);
    this.admin = res.admin;
  }

  async logout(): Promise<void> {
    try {
      await post('/admin/logout');
    } finally {
      rememberFirebaseToken(null);
      this.admin = null;
    }
  }

  /** The server said the session is gone (expired, disabled, signed out elsewhere). */
  expired(): void {
    this.admin = null;
  }
}

export const session = new Session();
