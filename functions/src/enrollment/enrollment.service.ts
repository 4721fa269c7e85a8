import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import { decodeTimeCursor, encodeTimeCursor } from '../core/cursor.js';
import { conflict, gone, notFound, unauthorized } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import { encrypt, randomSecret, sha256Hex } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import { upsertGroup } from '../devices/index.js';
import { ps1Script, shScript } from './adb-script.js';
import {
  claimToken,
  findTokenByHash,
  findTokenById,
  groupNameById,
  insertDevice,
  insertToken,
  listTokens,
  revokeToken,
  type TokenRow,
} from './enrollment.repository.js';
import { TOKEN_PREFIX, type CreateTokenInput, type EnrollInput, type TokenStatus } from './enrollment.schemas.js';

export interface EnrollmentOptions {
  publicUrl: string;
  defaultTtlSec: number;
  heartbeatIntervalSec: number;
  deviceSecretBcryptRounds: number;
  /** AES-256 key that seals device HMAC keys at rest. */
  encryptionKey: Buffer;
  agentPackage: string;
  agentAdminReceiver: string;
  /** Runs after a device enrolled (the live mirror shows it). */
  afterEnroll?: (deviceId: string) => Promise<void>;
}

export class EnrollmentService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly hasher: SecretHasher,
    private readonly options: EnrollmentOptions,
  ) {}

  async createToken(actor: AdminActor, input: CreateTokenInput, ip: string) {
    const now = this.clock.now();
    const token = TOKEN_PREFIX + randomSecret(32);
    const expiresAt = new Date(now.getTime() + (input.expiresInSec ?? this.options.defaultTtlSec) * 1000);
    const label = input.label?.trim() ?? '';
    const id = await this.db.transaction().execute(async (trx) => {
      const groupId = input.group ? await upsertGroup(trx, input.group) : null;
      const row = await insertToken(trx, {
        token_hash: sha256Hex(token),
        label,
        group_id: groupId,
        created_by: actor.id,
        created_at: now,
        expires_at: expiresAt,
        max_uses: input.maxUses ?? 1,
        tags: [...new Set(input.tags ?? [])],
      });
      await this.audit.record(
        trx,
        actor,
        {
          action: 'created_enrollment_token',
          target: { type: 'enrollment_token', id: row.id },
          details: { label, group: input.group ?? null, expiresAt: expiresAt.toISOString(), maxUses: input.maxUses ?? 1 },
        },
        ip,
      );
      return row.id;
    });
    const row = await findTokenById(this.db, id);
    const base = `${this.options.publicUrl}/api/v1/admin/enrollment-tokens/${id}/adb-script`;
    return { ...this.view(row!, now), token, adbScript: { sh: `${base}?shell=sh`, ps1: `${base}?shell=ps1` } };
  }

  async listTokens(q: { status?: TokenStatus | undefined; cursor?: string | undefined; limit: number }) {
    const now = this.clock.now();
    const cursor = decodeTimeCursor(q.cursor);
    const after = cursor && { createdAt: cursor.at, id: cursor.id };
    const rows = await listTokens(this.db, { status: q.status, after, limit: q.limit + 1, now });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => this.view(r, now)),
      nextCursor: rows.length > q.limit && last ? encodeTimeCursor(last.created_at, last.id) : null,
    };
  }

  async revokeToken(actor: AdminActor, id: string, ip: string): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const row = await findTokenById(trx, id);
      if (!row) throw notFound('enrollment token');
      if (row.used_at) throw conflict('enrollment_token_used', 'the token has no uses left');
      if (row.revoked_at) return; // revoking twice is a no-op
      if (await revokeToken(trx, id, actor.id, now)) {
        await this.audit.record(
          trx,
          actor,
          { action: 'revoked_enrollment_token', target: { type: 'enrollment_token', id }, details: { label: row.label } },
          ip,
        );
      }
    });
  }

  async adbScript(id: string, shell: 'sh' | 'ps1'): Promise<{ text: string; filename: string }> {
    const now = this.clock.now();
    const row = await findTokenById(this.db, id);
    if (!row) throw notFound('enrollment token');
    assertUsable(row, now);
    const input = {
      serverUrl: this.options.publicUrl,
      agentPackage: this.options.agentPackage,
      adminReceiver: this.options.agentAdminReceiver,
      tokenId: row.id,
      label: row.label,
      expiresAt: row.expires_at,
    };
    return shell === 'sh'
      ? { text: shScript(input), filename: `enroll-${id.slice(0, 8)}.sh` }
      : { text: ps1Script(input), filename: `enroll-${id.slice(0, 8)}.ps1` };
  }

  /**
   * Enrolls a device with a single-use token. The token is checked first without locks (cheap
   * rejections, and no bcrypt work for them), then claimed atomically in the transaction that
   * creates the device, so of many concurrent enrollments with one token exactly one succeeds.
   */
  async enroll(input: EnrollInput, ip: string) {
    const now = this.clock.now();
    const hash = sha256Hex(input.enrollmentToken);
    const seen = await findTokenByHash(this.db, hash);
    if (!seen) throw unauthorized('invalid_enrollment_token', 'unknown enrollment token');
    assertUsable(seen, now);

    const deviceId = randomUUID();
    const deviceSecret = randomSecret(32);
    const hmacKey = randomBytes(32);
    const secretHash = await this.hasher.hash(deviceSecret, this.options.deviceSecretBcryptRounds);

    await this.db.transaction().execute(async (trx) => {
      const claimed = await claimToken(trx, hash, now);
      if (!claimed) {
        const fresh = await findTokenByHash(trx, hash);
        assertUsable(fresh ?? seen, now);
        throw conflict('enrollment_token_used', 'the enrollment token was already used');
      }
      const d = input.device;
      await insertDevice(
        trx,
        {
          id: deviceId,
          secret_hash: secretHash,
          hmac_key_enc: encrypt(this.options.encryptionKey, hmacKey),
          group_id: claimed.group_id,
          enrollment_token_id: claimed.id,
          model: d.model,
          manufacturer: d.manufacturer,
          android_version: d.androidVersion,
          sdk_int: d.sdkInt,
          serial: d.serial ?? null,
          agent_version: d.agentVersion,
          agent_version_code: d.agentVersionCode ?? null,
          enrolled_at: now,
          last_seen_at: now,
          fcm_token: input.fcmToken ?? null,
          fcm_token_updated_at: input.fcmToken ? now : null,
        },
        claimed.tags,
      );
      await this.audit.record(
        trx,
        { kind: 'device', deviceId },
        {
          action: 'enrolled_device',
          target: { type: 'device', id: deviceId },
          details: {
            enrollmentTokenId: claimed.id,
            model: d.model,
            manufacturer: d.manufacturer,
            serial: d.serial ?? null,
            group: await groupNameById(trx, claimed.group_id),
          },
        },
        ip,
      );
    });
    await this.options.afterEnroll?.(deviceId);
    return {
      deviceId,
      deviceSecret,
      hmacKey: hmacKey.toString('base64'),
      heartbeatIntervalSec: this.options.heartbeatIntervalSec,
    };
  }

  private view(row: TokenRow, now: Date) {
    return {
      id: row.id,
      label: row.label,
      group: row.group_name,
      tags: row.tags,
      status: tokenStatus(row, now),
      createdAt: row.created_at,
      createdBy: row.created_by_email,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
      uses: row.use_count,
      maxUses: row.max_uses,
      deviceId: row.device_id,
      revokedAt: row.revoked_at,
    };
  }
}

export function tokenStatus(row: Pick<TokenRow, 'used_at' | 'revoked_at' | 'expires_at'>, now: Date): TokenStatus {
  if (row.used_at) return 'used';
  if (row.revoked_at) return 'revoked';
  return row.expires_at > now ? 'active' : 'expired';
}

function assertUsable(row: Pick<TokenRow, 'used_at' | 'revoked_at' | 'expires_at'>, now: Date): void {
  const status = tokenStatus(row, now);
  if (status === 'used') throw conflict('enrollment_token_used', 'the enrollment token was already used');
  if (status === 'revoked') throw gone('enrollment_token_revoked', 'the enrollment token was revoked');
  if (status === 'expired') throw gone('enrollment_token_expired', 'the enrollment token has expired');
}
