import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { SessionTokens } from '../core/session-tokens.js';
import type { ConsoleTokens } from '../ports/console-tokens.js';
import type { Db } from '../ports/db.js';
import type { FailureLimiter } from '../ports/failure-limiter.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { adminRoutes, OPEN_WHILE_PASSWORD_CHANGE } from './admin.routes.js';
import { AppError } from '../core/errors.js';
import type { AdminActor, Route, StreamSink } from '../core/route.js';
import { AdminService } from './admin.service.js';
import { apiTokenRoutes } from './api-tokens.routes.js';
import { ApiTokenService } from './api-tokens.service.js';
import { userRoutes } from './users.routes.js';
import { UserService } from './users.service.js';

/** The admin context: sign-in, sessions and the admin users (its public surface). */
export { AdminService, DEFAULT_ADMIN_EMAIL, type BootstrapResult } from './admin.service.js';
export { UserService } from './users.service.js';
export { ApiTokenService } from './api-tokens.service.js';
export { checkSecrets, SecretMismatchError } from './secret-check.js';

export interface AdminDeps {
  db: Db;
  clock: Clock;
  tokens: SessionTokens;
  hasher: SecretHasher;
  audit: AuditService;
  limiter: FailureLimiter;
  consoleTokens: ConsoleTokens;
  settings: {
    sessionTtlSec: number;
    bcryptRounds: number;
    secureCookie: boolean;
    /** RATE_LIMIT_LOGIN_ACCOUNT_ANY_FAILURES */
    accountFailuresAnyAddress?: number;
  };
}

export function createAdmin(d: AdminDeps) {
  const { sessionTtlSec, bcryptRounds, secureCookie, accountFailuresAnyAddress = 50 } = d.settings;
  // admin sign-ins get their own bounded bcrypt lane: a flood of them cannot hold up device sessions
  const hasher = d.hasher.lane('admin');
  const options = { sessionTtlSec, bcryptRounds, accountFailuresAnyAddress };
  const admins = new AdminService(d.db, d.clock, d.tokens, hasher, d.audit, options, d.consoleTokens, d.limiter);
  const users = new UserService(d.db, d.clock, hasher, d.audit, bcryptRounds, d.consoleTokens);
  const apiTokens = new ApiTokenService(d.db, d.clock, d.audit);
  return {
    admins,
    users,
    apiTokens,
    routes: [...adminRoutes(admins, { secureCookie }), ...userRoutes(users), ...apiTokenRoutes(apiTokens)],
    /**
     * Wraps every admin route: a generated password must be changed before anything else (403
     * password_change_required), and an open event stream ends when its session is revoked.
     */
    requirePasswordChange: (routes: Route[]) => routes.map((r) => guardPasswordChange(r, admins)),
  };
}

/** How often an open event stream re-checks its admin's session (closed once it is revoked). */
export const STREAM_RECHECK_MS = 5000;

function guardPasswordChange(r: Route, admins: AdminService): Route {
  if (r.auth !== 'viewer' && r.auth !== 'operator' && r.auth !== 'admin') return r;
  const open = OPEN_WHILE_PASSWORD_CHANGE.has(r.path);
  return {
    ...r,
    handler: async (ctx) => {
      if ((ctx.actor as { kind?: string } | null)?.kind === 'token') return r.handler(ctx); // a token has no password to change
      const actor = ctx.actor as AdminActor;
      if (!open && actor && admins.mustChangePassword(actor)) {
        throw new AppError(403, 'password_change_required', 'change the generated password first (POST /api/v1/admin/me/password)');
      }
      const reply = await r.handler(ctx);
      return reply.stream ? { ...reply, stream: revocable(reply.stream, () => admins.stillValid(actor)) } : reply;
    },
  };
}

/**
 * An event stream that ends when its admin's session is revoked (signed out, disabled, demoted,
 * password changed): the session is re-checked every STREAM_RECHECK_MS while the stream is open.
 */
function revocable(stream: (sink: StreamSink) => void, stillValid: () => Promise<boolean>) {
  return (sink: StreamSink) => {
    let open = true;
    const timer = setInterval(() => {
      void stillValid()
        .catch(() => true) // a database hiccup does not end the stream; the next check decides
        .then((valid) => {
          if (valid || !open) return;
          open = false;
          clearInterval(timer);
          sink.end?.();
        });
    }, STREAM_RECHECK_MS);
    timer.unref();
    sink.onClose(() => {
      open = false;
      clearInterval(timer);
    });
    stream({
      write: (chunk) => open && sink.write(chunk),
      onClose: (l) => sink.onClose(l),
      end: () => sink.end?.(),
      buffered: () => sink.buffered?.() ?? 0,
      cut: () => sink.cut?.(),
    });
  };
}
