import { ApiError, describeError, post, qs } from './api.js';
import type { CatalogPackage, Release } from './types.js';

/**
 * The Releases page's logic, apart from the page: the upload request (the body is the file itself,
 * not JSON) and the registration by URL, the catalog's refusals in plain words, and the releases grouped by package.
 */

export interface UploadOptions {
  notes?: string;
  allowDowngrade?: boolean;
}

/** POST /api/v1/admin/releases with the APK as the body; the server parses and checks it. */
export async function uploadApk(file: Blob, opts: UploadOptions = {}): Promise<Release> {
  const query = qs({ notes: opts.notes?.trim() || undefined, allowDowngrade: opts.allowDowngrade ? 'true' : undefined });
  let res: Response;
  try {
    res = await fetch(`/api/v1/admin/releases${query}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/vnd.android.package-archive', accept: 'application/json' },
      body: file,
    });
  } catch {
    // The server stops reading a body past its limit and closes the connection: the browser may
    // see that as a network failure rather than the 413 it sent.
    throw new ApiError(0, 'upload_failed', 'upload_failed');
  }
  const payload = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | Release | null;
  if (!res.ok) {
    const error = (payload as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? `The server answered ${res.status}.`);
  }
  return payload as Release;
}

/** POST /api/v1/admin/releases/register: the server downloads the https URL and checks it like an upload. */
export function registerApk(url: string, opts: UploadOptions = {}): Promise<Release> {
  return post<Release>('/admin/releases/register', {
    url: url.trim(),
    ...(opts.notes?.trim() ? { notes: opts.notes.trim() } : {}),
    ...(opts.allowDowngrade ? { allowDowngrade: true } : {}),
  });
}

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/** What to tell the operator when the catalog refuses an upload (docs/catalog.md lists the codes). */
export function uploadError(err: unknown, file?: { name: string; size: number }): string {
  if (!(err instanceof ApiError)) return describeError(err);
  const server = err.message.replace(/\.$/, '');
  switch (err.code) {
    case 'signer_mismatch':
      return `Refused: this APK is signed with a different key than the package's earlier releases, so devices would not trust it as an update. Sign it with the original key, or - if the key really changed - an admin rotates the package's signer first. (${server}.)`;
    case 'downgrade_refused':
      return `Refused: this is an older version than the catalog already has. Tick "Allow a downgrade" to upload it anyway. (${server}.)`;
    case 'release_exists':
      return `Refused: this version is already in the catalog. A version number is never reused - build it with a higher versionCode. (${server}.)`;
    case 'unsigned_apk':
      return 'Refused: the APK is not signed with APK Signature Scheme v2 or v3 (unsigned, or v1/JAR signing only). Sign it with apksigner or a release build of Android Studio.';
    case 'not_an_apk':
      return `Refused: ${file ? `"${file.name}"` : 'the file'} is not an Android APK (or it is damaged). Choose the .apk your build produced.`;
    case 'invalid_manifest':
      return 'Refused: the APK’s AndroidManifest.xml cannot be read (package, versionCode). The build may be damaged; build it again.';
    case 'invalid_signature':
      return 'Refused: the APK’s signature does not check out - the file was changed after it was signed, or the signature is broken. Sign it again.';
    case 'multiple_signers':
      return 'Refused: the APK has more than one signer; the catalog pins exactly one per package.';
    case 'hash_mismatch':
    case 'apk_mismatch':
      return `Refused: the APK is not what was expected (${server}).`;
    case 'payload_too_large': {
      const limit = Number(err.message.match(/(\d+) bytes/)?.[1] ?? 0);
      return `Refused: the file is too large${file ? ` (${mib(file.size)})` : ''}; this server accepts APKs up to ${limit ? mib(limit) : 'its limit'} (APK_MAX_BYTES).`;
    }
    case 'unsupported_media_type':
      return 'Refused: the server did not take the file as an APK. Choose an .apk file.';
    case 'uploads_busy':
      return 'Other uploads are in progress. Try again in a few seconds.';
    case 'invalid_url':
    case 'url_not_https':
      return 'Refused: give the APK’s https:// address (plain http and other schemes are not downloaded).';
    case 'destination_refused':
      return `Refused: the server may not connect to that address (a loopback, private or cloud-metadata address). Host the APK somewhere public, or upload the file. (${server}.)`;
    case 'download_failed':
      return `The server could not download the APK: ${server}. Check that the URL is the file itself (redirects are not followed) and try again.`;
    case 'download_too_large': {
      const limit = Number(err.message.match(/(\d+)-byte/)?.[1] ?? 0);
      return `Refused: the file at that URL is too large; this server accepts APKs up to ${limit ? mib(limit) : 'its limit'} (APK_MAX_BYTES).`;
    }
    case 'upload_failed':
      return `The upload did not reach the server or was cut off${file && file.size > 8 * 1024 * 1024 ? ' - the file may be larger than the server accepts (APK_MAX_BYTES)' : ''}. Check the connection and try again.`;
    default:
      return describeError(err);
  }
}

/** What rotating a signer pin answers, in plain words. */
export function rotateError(err: unknown): string {
  if (err instanceof ApiError && err.code === 'signer_unchanged') return 'The package is already pinned to that signer.';
  if (err instanceof ApiError && /signerSha256/.test(err.message)) {
    return 'Enter the new certificate’s SHA-256 digest: 64 hex digits, as `apksigner verify --print-certs` prints it.';
  }
  return describeError(err);
}

/** A certificate digest as apksigner prints it, from any spacing, colons or case the operator pasted. */
export function normalizeDigest(input: string): string {
  return input.replace(/[\s:]/g, '').toLowerCase();
}

export interface PackageReleases {
  packageName: string;
  pin: CatalogPackage | undefined;
  releases: Release[];
}

/** Releases grouped by package (the agent first, then by name), each newest version first. */
export function byPackage(releases: readonly Release[], packages: readonly CatalogPackage[], agentPackage?: string): PackageReleases[] {
  const names = new Set([...packages.map((p) => p.packageName), ...releases.map((r) => r.packageName)]);
  return [...names]
    .sort((a, b) => (a === agentPackage ? -1 : b === agentPackage ? 1 : a.localeCompare(b)))
    .map((packageName) => ({
      packageName,
      pin: packages.find((p) => p.packageName === packageName),
      releases: releases.filter((r) => r.packageName === packageName).sort((a, b) => b.versionCode - a.versionCode),
    }));
}

/** The first and last characters of a digest, for a table cell; the full one goes in a title and a copy button. */
export const shortDigest = (hex: string) => (hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex);
