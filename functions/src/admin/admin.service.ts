import type { AuditService } from '../audit/index.js';
import { AppError, tooManyRequests, unauthorized } from '../core/errors.js';
import type { AdminActor, Role } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { constantTimeEqual, randomSecret } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import { noConsoleTokens, type ConsoleTokens } from '../ports/console-tokens.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import type { SessionTokens } from '../core/session-tokens.js';
import type { FailureLimiter } from '../ports/failure-limiter.js';
import {
  bumpSessionVersion,
  countAdmins,
  findAdminByEmail,
  findAdminById,
  insertAdmin,
  lockAdminBootstrap,
  clearLoginLimits,
  setPassword,
  touchLastLogin,
} from './admin.repository.js';
import { withinBcryptLimit } from './password-policy.js';

export interface AdminServiceOptions {
  sessionTtlSec: number;
  bcryptRounds: number;
  /** Failed sign-ins to one account from all addresses but its known ones, per window (RATE_LIMIT_LOGIN_ACCOUNT_ANY_FAILURES). */
  accountFailuresAnyAddress: number;
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
      if (input.password !== undefined && !withinBcryptLimit(input.password)) {
        throw new Error('ADMIN_PASSWORD is longer than 72 bytes (UTF-8); bcrypt would ignore the rest: choose a shorter one');
      }
      const generatedPassword = input.password ? undefined : randomSecret(18);
      const password = input.password ?? generatedPassword!;
      const row = await insertAdmin(trx, {
        email,
        name: 'Administrator',
        role: 'admin',
        password_hash: await this.hasher.hash(password, this.options.bcryptRounds),
        // a generated password was printed to a log: its owner must replace it at first sign-in
        must_change_password: generatedPassword !== undefined,
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
   * Brute force is held off three times, each COUNTED BEFORE the password is checked (one atomic
   * increment that also answers), so concurrent guesses cannot all slip past a check made before any
   * was counted: the route counts attempts per client address (any account); here attempts per account
   * and address (RATE_LIMIT_LOGIN_ACCOUNT_FAILURES, the lock-out audited); and attempts per account
   * from all addresses together (RATE_LIMIT_LOGIN_ACCOUNT_ANY_FAILURES), which does not apply to the
   * last few addresses the admin signed in from - an attacker spread over many addresses is held to a
   * few guesses per window while the real admin still signs in from where they did before. A success
   * clears both account counts; the recovery script (npm run reset-password) clears them too.
   */
  async login(email: string, password: string, ip: string) {
    const account = email.trim().toLowerCase();
    const key = `${ip}|${account}`;
    const limiter = this.limiter;
    let counted: number | undefined;
    if (limiter) {
      const verdict = await limiter.attempt('login_account', key);
      if (!verdict.allowed) throw tooManyRequests(verdict.retryAfterSec, 'too many failed sign-ins for this account from your address');
      counted = verdict.count;
    }
    const admin = await findAdminByEmail(this.db, account);
    if (limiter && !admin?.known_addresses.includes(ip)) {
      const verdict = await limiter.attempt('login_account', anyAddress(account), this.options.accountFailuresAnyAddress);
      if (!verdict.allowed) {
        throw tooManyRequests(
          verdict.retryAfterSec,
          'too many failed sign-ins for this account; sign in from an address you used before, or ask another admin',
        );
      }
    }
    // An unknown or disabled admin costs the same time as a wrong password; a password bcrypt would
    // truncate (over 72 bytes) is wrong without being compared.
    const usable = admin && !admin.disabled_at ? admin.password_hash : undefined;
    const whole = withinBcryptLimit(password);
    const ok = (await this.hasher.verify(whole ? password : '', usable, this.options.bcryptRounds)) && whole;
    if (!admin || admin.disabled_at || !ok) {
      const limit = limiter?.limitOf('login_account');
      if (limit && counted === limit.failures) {
        await this.audit.record(
          this.db,
          { kind: 'system', name: 'login rate limit' },
          {
            action: 'locked_out_login',
            target: { type: 'login', id: account },
            details: { email: account, failures: counted, windowSec: limit.windowSec },
          },
          ip,
        );
      }
      throw unauthorized('invalid_credentials', 'wrong e-mail or password');
    }
    await limiter?.clear('login_account', key);
    await limiter?.clear('login_account', anyAddress(account));
    const now = this.clock.now();
    await touchLastLogin(this.db, admin.id, now, ip);
    const actor = toActor(admin);
    await this.audit.record(this.db, actor, { action: 'logged_in', target: { type: 'admin', id: admin.id }, details: {} }, ip);
    return this.#session(actor, admin.session_version, admin.must_change_password);
  }

  async #session(actor: AdminActor, sessionVersion: number, mustChangePassword: boolean) {
    const now = this.clock.now();
    const { token, expiresAt } = await this.tokens.sign('admin', actor.id, now, this.options.sessionTtlSec, {
      role: actor.role,
      sv: sessionVersion,
    });
    const firebaseToken = await this.consoleTokens.mint(actor);
    return { token, expiresAt, admin: view(actor, mustChangePassword), maxAgeSec: this.options.sessionTtlSec, firebaseToken };
  }

  /** Signing out ends every session of this admin (all their tokens, and on Firebase their refresh tokens). */
  async logout(actor: AdminActor, ip: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await bumpSessionVersion(trx, actor.id);
      await this.audit.record(trx, actor, { action: 'logged_out', target: { type: 'admin', id: actor.id }, details: {} }, ip);
    });
    await this.consoleTokens.revoke(actor.id);
  }

  /**
   * The signed-in admin replaces their own password (required after a generated one). Every other
   * session of theirs ends; this one gets a new token.
   */
  async changePassword(actor: AdminActor, currentPassword: string, newPassword: string, ip: string) {
    const admin = await findAdminByEmail(this.db, actor.email);
    const ok = !!admin && withinBcryptLimit(currentPassword) && (await this.hasher.compare(currentPassword, admin.password_hash));
    if (!admin || !ok) throw new AppError(403, 'wrong_password', 'the current password is wrong');
    if (constantTimeEqual(newPassword, currentPassword))
      throw new AppError(400, 'same_password', 'choose a password different from the current one');
    const hash = await this.hasher.hash(newPassword, this.options.bcryptRounds);
    const version = await this.db.transaction().execute(async (trx) => {
      const v = await setPassword(trx, admin.id, hash, false, this.clock.now());
      await this.audit.record(
        trx,
        actor,
        { action: 'updated_admin', target: { type: 'admin', id: admin.id }, details: { email: admin.email, changed: ['password'] } },
        ip,
      );
      return v;
    });
    await this.consoleTokens.revoke(actor.id);
    return this.#session(actor, version, false);
  }

  /**
   * The recovery path (npm run reset-password, on the database directly): gives the admin a new
   * generated password they must change at their next sign-in, ends all their sessions, lifts the
   * sign-in limits on the account, re-enables it, and audits it as done by the recovery script.
   */
  async recoverAccount(email: string): Promise<{ email: string; password: string }> {
    const account = email.trim().toLowerCase();
    const password = randomSecret(18);
    const hash = await this.hasher.hash(password, this.options.bcryptRounds);
    await this.db.transaction().execute(async (trx) => {
      const admin = await findAdminByEmail(trx, account);
      if (!admin) throw new Error(`no admin has the e-mail ${account}`);
      await setPassword(trx, admin.id, hash, true, this.clock.now());
      const changed = ['password'];
      if (admin.disabled_at) {
        await trx.updateTable('admins').set({ disabled_at: null }).where('id', '=', admin.id).execute();
        changed.push('disabled');
      }
      await clearLoginLimits(trx, account);
      await this.audit.record(
        trx,
        { kind: 'system', name: 'reset-password script' },
        {
          action: 'updated_admin',
          target: { type: 'admin', id: admin.id },
          details: { email: account, changed, ...(admin.disabled_at ? { disabled: false } : {}) },
        },
      );
    });
    await this.consoleTokens.revoke((await findAdminByEmail(this.db, account))!.id);
    return { email: account, password };
  }

  /**
   * Resolves a session token to the admin as they are now: a disabled admin or a changed role takes
   * effect at once, and a token whose session version is not the admin's current one (signed out,
   * password changed, disabled, role changed since) is no session at all.
   */
  async authenticate(token: string): Promise<AdminActor | null> {
    const verified = this.tokens.verify('admin', token, this.clock.now());
    if (!verified) return null;
    const admin = await findAdminById(this.db, verified.sub);
    if (!admin || admin.disabled_at || verified.claims.sv !== admin.session_version) return null;
    const actor = toActor(admin);
    this.#versions.set(actor, admin.session_version);
    if (admin.must_change_password) this.#mustChange.add(actor);
    return actor;
  }

  /** Whether this actor (from authenticate) signed in with a generated password not yet replaced. */
  mustChangePassword(actor: AdminActor): boolean {
    return this.#mustChange.has(actor);
  }

  /**
   * Whether the session this actor (from authenticate) came from is still valid: not signed out,
   * disabled, demoted or its password changed since. Open event streams re-check it.
   */
  async stillValid(actor: AdminActor): Promise<boolean> {
    const version = this.#versions.get(actor);
    if (version === undefined) return false;
    const admin = await findAdminById(this.db, actor.id);
    return !!admin && !admin.disabled_at && admin.session_version === version && admin.role === actor.role;
  }

  readonly #mustChange = new WeakSet<AdminActor>();
  readonly #versions = new WeakMap<AdminActor, number>();
}

const anyAddress = (account: string) => `*|${account}`;

function toActor(admin: { id: string; email: string; name: string; role: Role }): AdminActor {
  return { kind: 'admin', id: admin.id, email: admin.email, name: admin.name, role: admin.role };
}

export const view = (a: AdminActor, mustChangePassword = false) => ({
  id: a.id,
  email: a.email,
  name: a.name,
  role: a.role,
  mustChangePassword,
});
