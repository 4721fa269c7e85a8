import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { randomSecret, sha256Hex } from '../core/crypto.js';
import { conflict, notFound } from '../core/errors.js';
import { API_TOKEN_PREFIX, SCOPES, type AdminActor, type Scope, type TokenActor } from '../core/route.js';
import type { Db } from '../ports/db.js';
import { isUniqueViolation } from '../ports/db-errors.js';
import { findApiToken, insertApiToken, listApiTokens, revokeApiToken, useApiToken } from './api-tokens.repository.js';
import type { CreateApiTokenInput } from './api-tokens.schemas.js';

const DEFAULT_TTL_SEC = 90 * 86_400;

type Row = Awaited<ReturnType<typeof findApiToken>> & {};

/**
 * Scoped API tokens for automation. The secret (`mdmat_` + 256 random bits) is returned once and
 * stored as SHA-256 only; each request looks the hash up, so a revoked or expired token stops at once.
 */
export class ApiTokenService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  async create(actor: AdminActor, input: CreateApiTokenInput, ip: string) {
    const now = this.clock.now();
    const token = API_TOKEN_PREFIX + randomSecret(32);
    const scopes = SCOPES.filter((s) => input.scopes.includes(s));
    const expiresAt = new Date(now.getTime() + (input.expiresInSec ?? DEFAULT_TTL_SEC) * 1000);
    const name = input.name.trim();
    const row = await this.db
      .transaction()
      .execute(async (trx) => {
        const created = await insertApiToken(trx, {
          id: randomUUID(),
          name,
          tokenHash: sha256Hex(token),
          scopes,
          createdBy: actor.id,
          createdAt: now,
          expiresAt,
        });
        await this.audit.record(
          trx,
          actor,
          {
            action: 'created_api_token',
            target: { type: 'api_token', id: created.id },
            details: { name, scopes, expiresAt: expiresAt.toISOString() },
          },
          ip,
        );
        return created;
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) throw conflict('name_taken', `a live token is already named "${name}"`);
        throw err;
      });
    return { ...this.view(row, now), token };
  }

  async list() {
    const now = this.clock.now();
    return { items: (await listApiTokens(this.db)).map((r) => this.view(r, now)) };
  }

  async revoke(actor: AdminActor, id: string, ip: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await findApiToken(trx, id);
      if (!row) throw notFound('API token');
      if (row.revoked_at) return; // revoking twice is a no-op
      await revokeApiToken(trx, id, actor.id, this.clock.now());
      await this.audit.record(
        trx,
        actor,
        { action: 'revoked_api_token', target: { type: 'api_token', id }, details: { name: row.name } },
        ip,
      );
    });
  }

  /** The router's check of an `mdmat_` bearer token: the token actor, or null (unknown, revoked, expired). */
  async authenticate(token: string): Promise<TokenActor | null> {
    const row = await useApiToken(this.db, sha256Hex(token), this.clock.now());
    return row ? { kind: 'token', id: row.id, name: row.name, scopes: row.scopes as Scope[] } : null;
  }

  private view(r: Row, now: Date) {
    return {
      id: r.id,
      name: r.name,
      scopes: r.scopes as Scope[],
      status: r.revoked_at ? ('revoked' as const) : r.expires_at <= now ? ('expired' as const) : ('active' as const),
      createdBy: r.created_by,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
      lastUsedAt: r.last_used_at,
    };
  }
}
