import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, badRequest, conflict } from '../core/errors.js';
import type { StaffActor } from '../core/route.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Db } from '../ports/db.js';
import { DownloadError, type Downloader } from '../ports/downloader.js';
import type { Logger } from '../ports/logger.js';
import { SpoolLimitError, type Body, type Spool, type SpooledFile } from '../ports/spool.js';
import { ApkError, parseApk, type ApkInfo } from './apk-parser.js';
import * as repo from './catalog.repository.js';
import type { Expectations, RegisterBody } from './catalog.schemas.js';
import { UploadSlots } from './upload-slots.js';

export interface IntakeOptions {
  /** Largest APK accepted, uploaded or downloaded. */
  maxBytes: number;
  /** Uploads read at once by this instance, and by one caller. */
  maxConcurrent: number;
  maxPerCaller: number;
}

export interface IntakeDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  blobs: BlobStore;
  spool: Spool;
  downloader: Downloader;
  logger: Logger;
}

const APK_TYPE = 'application/vnd.android.package-archive';
const toChecksum = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const adminIdOf = (actor: StaffActor): string | null => (actor.kind === 'admin' ? actor.id : null);
const callerOf = (actor: StaffActor) => `${actor.kind}:${actor.id}`;

/**
 * How an APK becomes a release, whether uploaded or fetched from an https URL: a slot (429 when too
 * many are in progress), the body spooled to a private temporary file under the size cap while its
 * SHA-256 is computed, the APK parsed from the file by position, the uploader's expectations and the
 * catalog's rules (signer pin, no silent downgrade, no reused versionCode) checked, then the file
 * streamed into the BlobStore and the release row and audit entry written in one transaction. The
 * temporary file is removed in every outcome; nothing is stored when a check fails.
 */
export class ReleaseIntake {
  private readonly slots: UploadSlots;

  constructor(
    private readonly d: IntakeDeps,
    private readonly options: IntakeOptions,
  ) {
    this.slots = new UploadSlots(options.maxConcurrent, options.maxPerCaller);
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** An uploaded body (a stream being received, or bytes a host already buffered): the new release's id. */
  async upload(actor: StaffActor, q: Expectations, body: Body, ip: string): Promise<string> {
    const release = this.slots.acquire(callerOf(actor));
    try {
      const file = await this.spool(
        body,
        () => new AppError(413, 'payload_too_large', `request bodies are limited to ${this.maxBytes} bytes`),
      );
      try {
        return await this.ingest(actor, q, file, ip, undefined);
      } finally {
        await file.remove();
      }
    } finally {
      release();
    }
  }

  /** Downloads the APK at an https URL through the egress policy, then exactly as an upload. */
  async register(actor: StaffActor, body: RegisterBody, ip: string): Promise<string> {
    const url = httpsUrl(body.url);
    const { url: _url, ...q } = body;
    const release = this.slots.acquire(callerOf(actor));
    try {
      let file: SpooledFile;
      try {
        const download = await this.d.downloader.open(url.href, { maxBytes: this.maxBytes });
        file = await this.spool(download.body, () => tooLargeDownload(this.maxBytes));
      } catch (err) {
        throw err instanceof DownloadError ? downloadRefusal(err, this.maxBytes) : err;
      }
      try {
        return await this.ingest(actor, q, file, ip, auditedUrl(url));
      } finally {
        await file.remove();
      }
    } finally {
      release();
    }
  }

  private async spool(body: Body, tooLarge: () => AppError): Promise<SpooledFile> {
    let file: SpooledFile;
    try {
      file = await this.d.spool.take(body, this.maxBytes);
    } catch (err) {
      if (err instanceof SpoolLimitError) throw tooLarge();
      throw err;
    }
    if (file.size === 0) {
      await file.remove();
      throw new AppError(400, 'empty_body', 'the file is empty');
    }
    return file;
  }

  private async parse(file: SpooledFile): Promise<ApkInfo> {
    try {
      return await parseApk(file, file.sha256);
    } catch (err) {
      if (err instanceof ApkError) throw badRequest(err.code, err.message);
      throw err;
    }
  }

  private async ingest(actor: StaffActor, q: Expectations, file: SpooledFile, ip: string, sourceUrl: string | undefined): Promise<string> {
    const apk = await this.parse(file);
    checkExpected(apk, q);
    if (apk.signerSha256.length !== 1) {
      throw badRequest('multiple_signers', `the APK has ${apk.signerSha256.length} signers; the catalog pins exactly one`);
    }
    const signer = apk.signerSha256[0]!;
    const id = randomUUID();
    const blobKey = `apk/${id}.apk`;
    const now = this.d.clock.now();
    let stored = false;
    try {
      await this.d.db.transaction().execute(async (trx) => {
        const pin = await repo.lockPackage(trx, apk.packageName, signer, now, adminIdOf(actor));
        if (pin.signerSha256 !== signer) {
          throw conflict(
            'signer_mismatch',
            `${apk.packageName} is pinned to signer ${pin.signerSha256}; this APK is signed by ${signer} (an admin may rotate the pin)`,
          );
        }
        if (await repo.versionExists(trx, apk.packageName, apk.versionCode)) {
          throw conflict('release_exists', `${apk.packageName} versionCode ${apk.versionCode} is already in the catalog`);
        }
        const highest = await repo.highestVersion(trx, apk.packageName);
        const downgrade = highest !== null && apk.versionCode < highest;
        if (downgrade && q.allowDowngrade !== true) {
          throw conflict(
            'downgrade_refused',
            `${apk.packageName} already has versionCode ${highest}; upload ${apk.versionCode} with allowDowngrade=true to accept a lower one`,
          );
        }
        stored = true;
        await this.d.blobs.putStream(blobKey, file.stream(), APK_TYPE);
        await repo.insertRelease(trx, {
          id,
          packageName: apk.packageName,
          versionCode: apk.versionCode,
          versionName: apk.versionName ?? String(apk.versionCode),
          minSdk: apk.minSdk,
          targetSdk: apk.targetSdk,
          signerSha256: signer,
          scheme: apk.scheme,
          sha256: apk.sha256,
          sizeBytes: apk.sizeBytes,
          blobKey,
          notes: q.notes ?? null,
          createdAt: now,
          createdBy: adminIdOf(actor),
        });
        await this.d.audit.record(
          trx,
          actor,
          {
            action: 'uploaded_release',
            target: { type: 'release', id },
            details: {
              packageName: apk.packageName,
              versionCode: apk.versionCode,
              versionName: apk.versionName ?? String(apk.versionCode),
              sha256: apk.sha256,
              signerSha256: signer,
              pinnedSigner: pin.created,
              downgrade,
              ...(sourceUrl ? { sourceUrl } : {}),
            },
          },
          ip,
        );
      });
    } catch (err) {
      if (stored) {
        await this.d.blobs
          .delete(blobKey)
          .catch((e: unknown) => this.d.logger.warn('could not remove an unused blob', { blobKey, err: e }));
      }
      throw err;
    }
    return id;
  }
}

/** The URL to download from: https only (a plain-http APK could be swapped on the way). */
function httpsUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest('invalid_url', 'the url is not a valid URL');
  }
  if (url.protocol !== 'https:') throw badRequest('url_not_https', 'only https URLs are downloaded');
  return url;
}

/**
 * The source URL as the audit log keeps it: without credentials, query or fragment - a signed link's
 * query is a secret (a pre-signed storage URL, a token), and the log is read by every auditor.
 */
function auditedUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

const tooLargeDownload = (maxBytes: number) =>
  new AppError(413, 'download_too_large', `the file at the url is larger than the ${maxBytes}-byte limit for APKs`);

/** A failed download as the API says it: by kind only, never the remote's answer. */
function downloadRefusal(err: DownloadError, maxBytes: number): AppError {
  switch (err.kind) {
    case 'not_https':
      return badRequest('url_not_https', err.message);
    case 'refused':
      return new AppError(422, 'destination_refused', err.message);
    case 'too_large':
      return tooLargeDownload(maxBytes);
    case 'failed':
      return new AppError(422, 'download_failed', err.message);
  }
}

/** The values an uploader said to expect must be the APK's; any difference refuses the upload. */
function checkExpected(apk: ApkInfo, q: Expectations) {
  const differs: string[] = [];
  if (q.sha256 !== undefined && q.sha256 !== apk.sha256) {
    throw badRequest('hash_mismatch', `the file's SHA-256 is ${apk.sha256}, not ${q.sha256}`);
  }
  const signer = apk.signerSha256[0];
  if (q.signerSha256 !== undefined && q.signerSha256 !== signer) differs.push(`signerSha256 is ${signer}`);
  if (q.signatureChecksum !== undefined && signer && q.signatureChecksum !== toChecksum(signer)) {
    differs.push(`signatureChecksum is ${toChecksum(signer)}`);
  }
  if (q.packageName !== undefined && q.packageName !== apk.packageName) differs.push(`package is ${apk.packageName}`);
  if (q.versionCode !== undefined && q.versionCode !== apk.versionCode) differs.push(`versionCode is ${apk.versionCode}`);
  if (q.versionName !== undefined && q.versionName !== apk.versionName) differs.push(`versionName is ${apk.versionName ?? '(none)'}`);
  if (differs.length) throw badRequest('apk_mismatch', `the APK is not what the upload said: its ${differs.join(', ')}`);
}
