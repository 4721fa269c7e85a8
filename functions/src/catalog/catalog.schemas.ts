import { z } from 'zod';
import { count, isoDateTime, limitQuery, nonEmptyText, page, queryFlag, text, uuid } from '../core/schemas.js';

export const packageName = text(255).regex(/^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/, 'must be an Android package name');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

const signatureChecksum = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the signing certificate (43 characters, no padding)');
const versionCode = z.number().int().min(1).max(2_100_000_000);

/**
 * Upload query. Everything about the release comes from the APK itself; what the caller already
 * knows (the values a build pipeline computed) may be given to be checked: a mismatch is a 400 and
 * nothing is stored.
 */
export const uploadQuery = z.strictObject({
  notes: text(2000).optional(),
  allowDowngrade: queryFlag.optional().describe('Accept a versionCode lower than the package already has'),
  sha256: sha256Hex.optional().describe('Expected SHA-256 of the file'),
  signerSha256: sha256Hex.optional().describe("Expected SHA-256 of the signing certificate (apksigner's digest)"),
  packageName: packageName.optional().describe('Expected package'),
  versionCode: z.coerce.number().int().min(1).max(2_100_000_000).optional().describe('Expected versionCode'),
  versionName: nonEmptyText(64).optional().describe('Expected versionName'),
  signatureChecksum: signatureChecksum.optional().describe('Expected signer digest in base64url (the QR provisioning checksum)'),
});
export type UploadQuery = z.output<typeof uploadQuery>;

/**
 * Register a release by https URL: the server downloads the APK (through its egress policy) and
 * treats it exactly as an upload; the same optional expectations as the upload query.
 */
export const registerBody = z.strictObject({
  url: nonEmptyText(2048).describe('https URL of the APK; downloaded once, then served from this server'),
  notes: text(2000).optional(),
  allowDowngrade: z.boolean().optional().describe('Accept a versionCode lower than the package already has'),
  sha256: sha256Hex.optional().describe('Expected SHA-256 of the file'),
  signerSha256: sha256Hex.optional().describe("Expected SHA-256 of the signing certificate (apksigner's digest)"),
  packageName: packageName.optional().describe('Expected package'),
  versionCode: versionCode.optional().describe('Expected versionCode'),
  versionName: nonEmptyText(64).optional().describe('Expected versionName'),
  signatureChecksum: signatureChecksum.optional().describe('Expected signer digest in base64url (the QR provisioning checksum)'),
});
export type RegisterBody = z.output<typeof registerBody>;
/** What an uploader may say to expect (the same for an upload and a registration by URL). */
export type Expectations = UploadQuery;

export const release = z.object({
  id: uuid,
  packageName: z.string(),
  versionCode: z.number().int(),
  versionName: z.string(),
  minSdk: z.number().int().nullable(),
  targetSdk: z.number().int().nullable(),
  /** SHA-256 of the signing certificate, lower-case hex (what the agent compares). */
  signerSha256: z.string(),
  /** The same digest in base64url, as Android's QR provisioning wants it. */
  signatureChecksum: z.string(),
  signatureScheme: z.enum(['v2', 'v3']),
  sha256: z.string(),
  sizeBytes: z.number().int().nullable(),
  notes: z.string().nullable(),
  createdAt: isoDateTime,
  createdBy: z.string().nullable(),
  bad: z.object({ at: isoDateTime, reason: z.string(), by: z.string().nullable() }).nullable(),
  downloads: count,
  /** Devices whose last heartbeat reported this version. */
  devices: count,
});

export const releasePage = page(release);
export const listReleasesQuery = z.strictObject({ package: packageName.optional(), limit: limitQuery(100, 500) });
export const releaseParams = z.object({ id: uuid });
export const markBadBody = z.strictObject({ reason: nonEmptyText(500) });

export const catalogPackage = z.object({
  packageName: z.string(),
  signerSha256: z.string(),
  pinnedAt: isoDateTime,
  pinnedBy: z.string().nullable(),
  releases: count,
  latestVersionCode: z.number().int().nullable(),
});
export const packageList = z.object({ items: z.array(catalogPackage) });
export const packageParams = z.object({ packageName });
export const rotateSignerBody = z.strictObject({ signerSha256: sha256Hex, reason: nonEmptyText(500) });

export const agentRelease = z.object({
  packageName: z.string(),
  componentName: z.string(),
  serverUrl: z.string(),
  downloadUrl: z.string(),
  versionCode: z.number().int().nullable(),
  versionName: z.string().nullable(),
  sha256: z.string().nullable(),
  signatureChecksum: z.string().nullable(),
});
