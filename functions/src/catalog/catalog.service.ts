import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, conflict, gone, notFound } from '../core/errors.js';
import type { AdminActor, StaffActor } from '../core/route.js';

/** The admin behind a change (a token's changes are audited under its name; the row names no admin). */
const adminIdOf = (actor: StaffActor): string | null => (actor.kind === 'admin' ? actor.id : null);
import type { BlobStore } from '../ports/blob-store.js';
import type { Db } from '../ports/db.js';
import * as repo from './catalog.repository.js';

export interface CatalogOptions {
  publicUrl: string;
  agentPackage: string;
  agentAdminReceiver: string;
}

/** What an INSTALL_APK envelope carries about its release (commands/ fills the params from it). */
export interface InstallableRelease {
  releaseId: string;
  packageName: string;
  versionCode: number;
  versionName: string;
  url: string;
  sha256: string;
  signerSha256: string;
}

const toChecksum = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/**
 * The app catalog: the agent and the kiosk apps as releases parsed from uploaded APKs. A package's
 * first release pins its signer; another signer is refused (409 signer_mismatch) until an admin
 * rotates the pin; a lower versionCode needs allowDowngrade; a release marked bad is never served
 * or installed again. The bytes live in the BlobStore, the facts in SQL.
 */
export class CatalogService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly blobs: BlobStore,
    private readonly options: CatalogOptions,
  ) {}

  async list(q: { package?: string | undefined; limit: number }) {
    const rows = await repo.listReleases(this.db, { packageName: q.package, limit: q.limit });
    return { items: await this.view(rows), nextCursor: null };
  }

  async get(id: string) {
    const rows = await repo.listReleases(this.db, { id, limit: 1 });
    const [r] = await this.view(rows);
    if (!r) throw notFound('release');
    return r;
  }

  private async view(rows: Awaited<ReturnType<typeof repo.listReleases>>) {
    const packages = [...new Set(rows.map((r) => r.package_name!))];
    const running = await repo.devicesPerVersion(this.db, packages, this.options.agentPackage);
    return rows.map((r) => ({
      id: r.id,
      packageName: r.package_name!,
      versionCode: r.version_code,
      versionName: r.version_name,
      minSdk: r.min_sdk,
      targetSdk: r.target_sdk,
      signerSha256: r.signer_sha256!,
      signatureChecksum: toChecksum(r.signer_sha256!),
      signatureScheme: r.signature_scheme as 'v2' | 'v3',
      sha256: r.sha256,
      sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
      notes: r.notes,
      createdAt: r.created_at.toISOString(),
      createdBy: r.created_by_email,
      bad: r.bad_at ? { at: r.bad_at.toISOString(), reason: r.bad_reason ?? '', by: r.bad_by_email } : null,
      downloads: Number(r.downloads ?? 0),
      devices:
        r.package_name === this.options.agentPackage
          ? (running.agent.get(r.version_name) ?? 0)
          : (running.app.get(`${r.package_name} ${r.version_code}`) ?? 0),
    }));
  }

  /** Marks a release bad: never served or installed again. Marking it again changes nothing. */
  async markBad(actor: StaffActor, id: string, reason: string, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      const r = await repo.markBad(trx, id, reason, adminIdOf(actor), this.clock.now());
      if (!r) return;
      await this.audit.record(
        trx,
        actor,
        {
          action: 'marked_release_bad',
          target: { type: 'release', id },
          details: { packageName: r.package_name!, versionCode: r.version_code, reason },
        },
        ip,
      );
    });
    return this.get(id);
  }

  async packages() {
    const rows = await repo.listPackages(this.db);
    return {
      items: rows.map((p) => ({
        packageName: p.package_name,
        signerSha256: p.signer_sha256,
        pinnedAt: p.pinned_at.toISOString(),
        pinnedBy: p.pinned_by_email,
        releases: Number(p.releases ?? 0),
        latestVersionCode: p.latest_version_code ?? null,
      })),
    };
  }

  /** Moves a package's signer pin to another certificate digest (key rotation), audited with the reason. */
  async rotateSigner(actor: AdminActor, packageName: string, body: { signerSha256: string; reason: string }, ip: string) {
    await this.db.transaction().execute(async (trx) => {
      const before = await repo.repin(trx, packageName, body.signerSha256, this.clock.now(), actor.id);
      if (before === undefined) throw notFound('package');
      if (before === body.signerSha256) throw conflict('signer_unchanged', `${packageName} is already pinned to that signer`);
      await this.audit.record(
        trx,
        actor,
        {
          action: 'rotated_signer',
          target: { type: 'package', id: packageName },
          details: { from: before, to: body.signerSha256, reason: body.reason },
        },
        ip,
      );
    });
    return (await this.packages()).items.find((p) => p.packageName === packageName)!;
  }

  private downloadUrl(id: string) {
    return `${this.options.publicUrl}/api/v1/releases/${id}/apk`;
  }

  /**
   * A release an INSTALL_APK may name: found, not bad. `db` lets a caller read it inside its own
   * transaction (the policies' recompute: on PGlite's single connection a read outside would wait for it).
   */
  async installable(id: string, db: Db = this.db): Promise<InstallableRelease> {
    const r = await repo.findRelease(db, id);
    if (!r) throw new AppError(404, 'release_not_found', `no release ${id} in the catalog`);
    if (r.bad_at) throw conflict('release_bad', `release ${id} is marked bad and is never installed`);
    return {
      releaseId: r.id,
      packageName: r.package_name!,
      versionCode: r.version_code,
      versionName: r.version_name,
      url: this.downloadUrl(r.id),
      sha256: r.sha256,
      signerSha256: r.signer_sha256!,
    };
  }

  /** What the console needs for the ADB script and the QR provisioning payload. */
  async agentInfo() {
    const r = await repo.latestGood(this.db, this.options.agentPackage);
    const { agentPackage, agentAdminReceiver, publicUrl } = this.options;
    return {
      packageName: agentPackage,
      componentName: agentAdminReceiver.includes('/') ? agentAdminReceiver : `${agentPackage}/${agentAdminReceiver}`,
      serverUrl: publicUrl,
      downloadUrl: `${publicUrl}/api/v1/apk/latest`,
      versionCode: r?.version_code ?? null,
      versionName: r?.version_name ?? null,
      sha256: r?.sha256 ?? null,
      signatureChecksum: r?.signer_sha256 ? toChecksum(r.signer_sha256) : null,
    };
  }

  /** The newest good agent release's bytes, the download recorded. */
  async downloadLatestAgent(ip: string, userAgent: string | undefined) {
    const r = await repo.latestGood(this.db, this.options.agentPackage);
    if (!r) throw missing('no_apk_release', 'no agent release is in the catalog yet (upload one: POST /api/v1/admin/releases)');
    return this.serve(r.id, ip, userAgent);
  }

  /** A release's bytes by id, the download recorded; a bad release is 410. */
  async download(id: string, ip: string, userAgent: string | undefined) {
    return this.serve(id, ip, userAgent);
  }

  private async serve(id: string, ip: string, userAgent: string | undefined) {
    const r = await repo.findRelease(this.db, id);
    if (!r) throw new AppError(404, 'release_not_found', `no release ${id} in the catalog`);
    if (r.bad_at) throw gone('release_bad', `release ${id} is marked bad`);
    const content = await this.blobs.get(r.blob_key!);
    if (!content) throw new AppError(503, 'release_unavailable', 'the release is in the catalog but its file is missing from storage');
    await repo.recordDownload(this.db, r.id, this.clock.now(), ip, userAgent);
    return {
      content,
      packageName: r.package_name!,
      versionCode: r.version_code,
      versionName: r.version_name,
      sha256: r.sha256,
      signerSha256: r.signer_sha256!,
    };
  }
}

const missing = (code: string, message: string) => new AppError(404, code, message);
