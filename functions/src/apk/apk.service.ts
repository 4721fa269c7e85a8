import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../core/errors.js';
import type { AdminActor } from '../core/route.js';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';

export interface ApkOptions {
  publicUrl: string;
  agentPackage: string;
  agentAdminReceiver: string;
  /** Largest APK accepted by upload. */
  maxBytes: number;
}

export interface NewRelease {
  versionCode: number;
  versionName: string;
  url: string;
  sha256: string;
  signatureChecksum?: string | undefined;
  notes?: string | undefined;
}

export interface UploadedRelease {
  versionCode: number;
  versionName: string;
  signatureChecksum?: string | undefined;
  notes?: string | undefined;
}

/**
 * Agent releases. A release is either hosted elsewhere (a GitHub release, Cloud Storage: the server
 * keeps its URL and redirects) or uploaded to the server (the bytes kept in the database and served).
 * `GET /api/v1/apk/latest` records each download. The newest release
 * (highest versionCode) is what the ADB script installs, what QR provisioning names, and what an
 * operator pushes with INSTALL_APK.
 */
export class ApkService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly options: ApkOptions,
  ) {}

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Registers a release hosted elsewhere. */
  create(actor: AdminActor, r: NewRelease, ip: string) {
    return this.insert(actor, { ...r, sha256: r.sha256.toLowerCase(), content: null }, ip);
  }

  /** Stores an uploaded APK; its SHA-256 is computed here. */
  upload(actor: AdminActor, r: UploadedRelease, apk: Buffer, ip: string) {
    // an APK is a ZIP archive: refuse anything else before it reaches a device
    if (apk.length < 22 || apk.readUInt32LE(0) !== 0x04034b50) {
      throw new AppError(400, 'not_an_apk', 'the body is not an APK (a ZIP archive starting with PK\\x03\\x04)');
    }
    return this.insert(actor, { ...r, url: null, sha256: createHash('sha256').update(apk).digest('hex'), content: apk }, ip);
  }

  private async insert(actor: AdminActor, r: Omit<NewRelease, 'url'> & { url: string | null; content: Buffer | null }, ip: string) {
    const id = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('apk_releases')
        .values({
          version_code: r.versionCode,
          version_name: r.versionName,
          url: r.url,
          content: r.content,
          size_bytes: r.content?.length ?? null,
          sha256: r.sha256,
          signature_checksum: r.signatureChecksum ?? null,
          notes: r.notes ?? null,
          created_at: this.clock.now(),
          created_by: actor.id,
        })
        .onConflict((oc) => oc.column('version_code').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) throw new AppError(409, 'apk_release_exists', `a release with versionCode ${r.versionCode} is already registered`);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'registered_apk_release',
          target: { type: 'apk_release', id: row.id },
          details: { versionCode: r.versionCode, versionName: r.versionName, sha256: r.sha256, uploaded: r.content !== null },
        },
        ip,
      );
      return row.id;
    });
    return (await this.releases({ id, limit: 1 }))[0]!;
  }

  async list(q: { limit: number }) {
    return { items: await this.releases(q), nextCursor: null };
  }

  /** Releases as the API shows them (never their bytes), newest version first; one by id when given. */
  private async releases(q: { id?: string; limit: number }) {
    let query = this.db
      .selectFrom('apk_releases as r')
      .leftJoin('admins as a', 'a.id', 'r.created_by')
      .select((eb) => [
        'r.id',
        'r.version_code',
        'r.version_name',
        'r.url',
        'r.size_bytes',
        'r.sha256',
        'r.signature_checksum',
        'r.notes',
        'r.created_at',
        'a.email as created_by_email',
        eb
          .selectFrom('apk_downloads as d')
          .whereRef('d.release_id', '=', 'r.id')
          .select(sql<string>`count(*)`.as('n'))
          .as('downloads'),
      ])
      .orderBy('r.version_code', 'desc')
      .limit(q.limit);
    if (q.id !== undefined) query = query.where('r.id', '=', q.id);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: r.id,
      versionCode: r.version_code,
      versionName: r.version_name,
      url: r.url,
      stored: r.url === null,
      sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
      sha256: r.sha256,
      signatureChecksum: r.signature_checksum,
      notes: r.notes,
      createdAt: r.created_at.toISOString(),
      createdBy: r.created_by_email,
      downloads: Number(r.downloads ?? 0),
    }));
  }

  /** The newest release, without its bytes. */
  private latest() {
    return this.db
      .selectFrom('apk_releases')
      .select(['id', 'version_code', 'version_name', 'url', 'sha256', 'signature_checksum'])
      .orderBy('version_code', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** What the console needs for the ADB script and the QR provisioning payload. */
  async agentInfo() {
    const r = await this.latest();
    const { agentPackage, agentAdminReceiver, publicUrl } = this.options;
    return {
      packageName: agentPackage,
      componentName: agentAdminReceiver.includes('/') ? agentAdminReceiver : `${agentPackage}/${agentAdminReceiver}`,
      serverUrl: publicUrl,
      downloadUrl: `${publicUrl}/api/v1/apk/latest`,
      versionCode: r?.version_code ?? null,
      versionName: r?.version_name ?? null,
      sha256: r?.sha256 ?? null,
      signatureChecksum: r?.signature_checksum ?? null,
    };
  }

  /** Records the download and returns where the newest APK is, or its bytes when it is stored here. */
  async download(
    ip: string,
    userAgent: string | undefined,
  ): Promise<{ sha256: string; versionCode: number; versionName: string } & ({ url: string } | { content: Buffer })> {
    const r = await this.latest();
    if (!r) throw new AppError(404, 'no_apk_release', 'no agent release is registered yet (POST /api/v1/admin/apk-releases)');
    const content =
      r.url === null
        ? (await this.db.selectFrom('apk_releases').select('content').where('id', '=', r.id).executeTakeFirstOrThrow()).content
        : null;
    await this.db
      .insertInto('apk_downloads')
      .values({ release_id: r.id, at: this.clock.now(), ip, user_agent: userAgent?.slice(0, 256) ?? null })
      .execute();
    const base = { sha256: r.sha256, versionCode: r.version_code, versionName: r.version_name };
    return r.url !== null ? { ...base, url: r.url } : { ...base, content: content! };
  }
}
