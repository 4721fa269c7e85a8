import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { SessionTokens } from '../core/session-tokens.js';
import type { ConsoleTokens } from '../ports/console-tokens.js';
import type { Db } from '../ports/db.js';
import type { FailureLimiter } from '../ports/failure-limiter.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { adminRoutes } from './admin.routes.js';
import { AdminService } from './admin.service.js';
import { userRoutes } from './users.routes.js';
import { UserService } from './users.service.js';

/** The admin context: sign-in, sessions and the admin users (its public surface). */
export { AdminService, DEFAULT_ADMIN_EMAIL, type BootstrapResult } from './admin.service.js';
export { UserService } from './users.service.js';

export interface AdminDeps {
  db: Db;
  clock: Clock;
  tokens: SessionTokens;
  hasher: SecretHasher;
  audit: AuditService;
  limiter: FailureLimiter;
  consoleTokens: ConsoleTokens;
  settings: { sessionTtlSec: number; bcryptRounds: number; secureCookie: boolean };
}

export function createAdmin(d: AdminDeps) {
  const { sessionTtlSec, bcryptRounds, secureCookie } = d.settings;
  const admins = new AdminService(d.db, d.clock, d.tokens, d.hasher, d.audit, { sessionTtlSec, bcryptRounds }, d.consoleTokens, d.limiter);
  const users = new UserService(d.db, d.clock, d.hasher, d.audit, bcryptRounds);
  return { admins, users, routes: [...adminRoutes(admins, { secureCookie }), ...userRoutes(users)] };
}
