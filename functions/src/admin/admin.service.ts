import type { AuditService } from '../audit/index.js';
import { tooManyRequests, unauthorized } from '../core/errors.js';
import type { AdminActor, Role } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { randomSecret } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import { noConsoleTokens, type ConsoleTokens } from '../ports/console-tokens.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import type { SessionTokens } from '../core/session-tokens.js';
import type { FailureLimiter } from '../ports/failure-limiter.js';
import { countAdmins, findAdminByEmail, findAdminById, insertAdmin, lockAdminBootstrap, touchLastLogin } from './admin.repository.js';

export interface AdminServiceOptions {
  sessionTtlSec: number;
  bcryptRounds: number;
}

export type BootstrapResult = { created: false } | { created: true; email: string; generatedPassword: string | undefined };

export const DEFAULT_ADMIN_EMAIL = 'admin@localhost';

export class AdminService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tokens: SessionTokens,
    private readonly hasher: SecretHasher,
    private readonly audit: AuditService,
    private readonly options: AdminServiceOptions,
    private readonly consoleTokens: ConsoleTokens = noConsoleTokens,
    private readonly limiter?: FailureLimiter,
  ) {}

  /**
   * Creates the first admin when there is none. Without a configured password it generates one
   * (standalone only) and returns it so the caller can print it once; it is never stored in clear.
   */
  async ensureFirstAdmin(input: {
    email: string | undefined;
    password: string | undefined;
    allowGenerated: boolean;
  }): Promise<BootstrapResult> {
    return this.db.transaction().execute(async (trx) => {
      await lockAdminBootstrap(trx);
      if ((await countAdmins(trx)) > 0) return { created: false } as const;
      if (!input.password && !input.allowGenerated) {
        throw new Error('no admin exists: set ADMIN_EMAIL and ADMIN_PASSWORD to create the first one');
      }
      const email = (input.email ?? DEFAULT_ADMIN_EMAIL).toLowerCase();
      const generatedPassword = input.password ? undefined : randomSecret(18);
      const password = input.password ?? generatedPassword!;
      const row = await insertAdmin(trx, {
        email,
        name: 'Administrator',
        role: 'admin',
        password_hash: await this.hasher.hash(password, this.options.bcryptRounds),
      });
      await this.audit.record(
        trx,
        { kind: 'system', name: 'system' },
        {
          action: 'created_admin',
          target: { type: 'admin', id: row.id },
          details: { email, role: 'admin', bootstrap: true },
        },
      );
      return { created: true, email, generatedPassword } as const;
    });
  }

  /**
   * Brute force is held off twice: the route counts failures per client address (any accounts), and
   * here failures per account and address - after a few, that pair gets 429 with Retry-After until the
   * window ends, before any password is checked, and the lock-out is audited. Other addresses (the
   * real admin elsewhere) are not locked out.
   */
  async login(email: string, password: string, ip: string) {
    const account = email.trim().toLowerCase();
    const key = `${ip}|${account}`;
    const verdict = await this.limiter?.check('login_account', key);
    if (verdict && !verdict.allowed)
      throw tooManyRequests(verdict.retryAfterSec, 'too many failed sign-ins for this account from your address');
    const admin = await findAdminByEmail(this.db, account);
    // An unknown or disabled admin costs the same time as a wrong password.
    const usable = admin && !admin.disabled_at ? admin.password_hash : undefined;
    const ok = await this.hasher.verify(password, usable, this.options.bcryptRounds);
    if (!admin || admin.disabled_at || !ok) {
      if (this.limiter) {
        const failures = await this.limiter.recordFailure('login_account', key);
        const limit = this.limiter.limitOf('login_account');
        if (failures === limit.failures) {
          await this.audit.record(
            this.db,
            { kind: 'system', name: 'login rate limit' },
            {
              action: 'locked_out_login',
              target: { type: 'login', id: account },
              details: { email: account, failures, windowSec: limit.windowSec },
            },
            ip,
          );
        }
      }
      throw unauthorized('invalid_credentials', 'wrong e-mail or password');
    }
    await this.limiter?.clear('login_account', key);
    const now = this.clock.now();
    const { token, expiresAt } = await this.tokens.sign('admin', admin.id, now, this.options.sessionTtlSec, {
      role: admin.role,
    });
    await touchLastLogin(this.db, admin.id, now);
    const actor = toActor(admin);
    await this.audit.record(this.db, actor, { action: 'logged_in', target: { type: 'admin', id: admin.id }, details: {} }, ip);
    const firebaseToken = await this.consoleTokens.mint(actor);
    return { token, expiresAt, admin: view(actor), maxAgeSec: this.options.sessionTtlSec, firebaseToken };
  }

  async logout(actor: AdminActor, ip: string): Promise<void> {
    await this.audit.record(this.db, actor, { action: 'logged_out', target: { type: 'admin', id: actor.id }, details: {} }, ip);
  }

  /** Resolves a session token to the admin as they are now: a disabled admin or a changed role takes effect at once. */
  async authenticate(token: string): Promise<AdminActor | null> {
    const verified = this.tokens.verify('admin', token, this.clock.now());
    if (!verified) return null;
    const admin = await findAdminById(this.db, verified.sub);
    if (!admin || admin.disabled_at) return null;
    return toActor(admin);
  }
}

function toActor(admin: { id: string; email: string; name: string; role: Role }): AdminActor {
  return { kind: 'admin', id: admin.id, email: admin.email, name: admin.name, role: admin.role };
}

export const view = (a: AdminActor) => ({ id: a.id, email: a.email, name: a.name, role: a.role });
