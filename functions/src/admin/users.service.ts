import type { Kysely } from 'kysely';
import { noConsoleTokens, type ConsoleTokens } from '../ports/console-tokens.js';
import type { AuditService } from '../audit/index.js';
import { AppError, conflict, notFound } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { randomSecret } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import { isUniqueViolation } from '../ports/db-errors.js';
import type { AdminUpdate, Database } from '../ports/schema.generated.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { bumpSessionVersion, lockAdminBootstrap } from './admin.repository.js';
import type { CreateUserInput, UpdateUserInput } from './users.schemas.js';
import { countActiveAdmins, deleteUser, findUser, insertUser, listUsers, updateUser } from './users.repository.js';

const CHANGE_NAMES = { name: 'name', role: 'role', disabled_at: 'disabled', password_hash: 'password' } as const;

type UserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

/**
 * Console users (the `admins` table) managed by admins: create with a given or generated password,
 * change role, disable, reset the password, delete. Every change is audited in its transaction, and
 * the last enabled admin can be neither demoted, disabled nor deleted - checked under the same
 * advisory lock as first-admin creation, so two admins demoting each other at once cannot both win.
 * Sessions re-read the admin's row on every request, so a change takes effect at once; a new password,
 * a role change or disabling also bumps the user's session version, ending every session they have.
 */
export class UserService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly hasher: SecretHasher,
    private readonly audit: AuditService,
    private readonly bcryptRounds: number,
    private readonly consoleTokens: ConsoleTokens = noConsoleTokens,
  ) {}

  async list() {
    return { items: (await listUsers(this.db)).map(toApi) };
  }

  async create(actor: AdminActor, input: CreateUserInput, ip: string) {
    const email = input.email.trim().toLowerCase();
    const generated = input.password === undefined ? randomSecret(18) : undefined;
    const hash = await this.hasher.hash(input.password ?? generated!, this.bcryptRounds);
    try {
      const row = await this.db.transaction().execute(async (trx) => {
        const user = await insertUser(trx, {
          email,
          name: input.name?.trim() ?? '',
          role: input.role,
          password_hash: hash,
          must_change_password: generated !== undefined,
        });
        await this.audit.record(
          trx,
          actor,
          { action: 'created_admin', target: { type: 'admin', id: user.id }, details: { email, role: input.role, bootstrap: false } },
          ip,
        );
        return user;
      });
      return { ...toApi(row), generatedPassword: generated ?? null };
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('email_taken', `${email} already has an account`);
      throw err;
    }
  }

  async update(actor: AdminActor, id: string, input: UpdateUserInput, ip: string) {
    let revoke = false;
    const generated = input.resetPassword ? randomSecret(18) : undefined;
    const newPassword = input.password ?? generated;
    const hash = newPassword === undefined ? undefined : await this.hasher.hash(newPassword, this.bcryptRounds);
    const row = await this.db.transaction().execute(async (trx) => {
      await lockAdminBootstrap(trx);
      const user = await this.#find(trx, id);
      const patch: AdminUpdate = {};
      if (input.name !== undefined && input.name.trim() !== user.name) patch.name = input.name.trim();
      if (input.role !== undefined && input.role !== user.role) patch.role = input.role;
      if (input.disabled !== undefined && input.disabled !== (user.disabled_at !== null)) {
        patch.disabled_at = input.disabled ? this.clock.now() : null;
      }
      if (hash !== undefined) patch.password_hash = hash;
      const changed: string[] = Object.keys(patch).map((k) => CHANGE_NAMES[k as keyof typeof CHANGE_NAMES]);
      if (changed.length === 0) return user;
      if (hash !== undefined) patch.must_change_password = generated !== undefined;
      // a new password, a role change or disabling ends every session the user has (re-enabling does not revive them)
      revoke = patch.password_hash !== undefined || patch.role !== undefined || patch.disabled_at !== undefined;
      const losesAdmin =
        user.role === 'admin' && user.disabled_at === null && (patch.role !== undefined || patch.disabled_at !== undefined);
      if (losesAdmin) await this.#keepOneAdmin(trx);
      patch.updated_at = this.clock.now();
      const updated = await updateUser(trx, id, patch);
      if (revoke) await bumpSessionVersion(trx, id);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'updated_admin',
          target: { type: 'admin', id },
          details: {
            email: user.email,
            changed,
            ...(patch.role !== undefined ? { role: input.role } : {}),
            ...(changed.includes('disabled') ? { disabled: input.disabled } : {}),
          },
        },
        ip,
      );
      return updated;
    });
    if (revoke) await this.consoleTokens.revoke(id);
    return { ...toApi(row), generatedPassword: generated ?? null };
  }

  async remove(actor: AdminActor, id: string, ip: string): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await lockAdminBootstrap(trx);
        const user = await this.#find(trx, id);
        if (user.role === 'admin' && user.disabled_at === null) await this.#keepOneAdmin(trx);
        await deleteUser(trx, id);
        await this.audit.record(
          trx,
          actor,
          { action: 'deleted_admin', target: { type: 'admin', id }, details: { email: user.email, role: user.role } },
          ip,
        );
      });
      await this.consoleTokens.revoke(id);
    } catch (err) {
      if ((err as { code?: unknown }).code === '23503') {
        throw conflict('admin_has_history', 'this user created tokens, acknowledged alerts or changed settings; disable them instead');
      }
      throw err;
    }
  }

  async #find(trx: Kysely<Database>, id: string): Promise<UserRow> {
    const user = await findUser(trx, id);
    if (!user) throw notFound('user');
    return user;
  }

  /** Called before a change that takes an enabled admin away: refuses it when that admin is the last. */
  async #keepOneAdmin(trx: Kysely<Database>): Promise<void> {
    if ((await countActiveAdmins(trx)) <= 1) {
      throw new AppError(409, 'last_admin', 'this is the last enabled admin; make another admin first');
    }
  }
}

function toApi(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabled_at !== null,
    createdAt: row.created_at.toISOString(),
    lastLoginAt: row.last_login_at?.toISOString() ?? null,
  };
}
