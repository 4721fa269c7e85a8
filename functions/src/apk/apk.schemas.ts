import { z } from 'zod';
import { isoDateTime, limitQuery, nonEmptyText, page, text, uuid } from '../core/schemas.js';

const httpsUrl = text(2048).refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

export const createReleaseBody = z.strictObject({
  versionCode: z.number().int().min(1).max(2_100_000_000),
  versionName: nonEmptyText(64),
  url: httpsUrl,
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (sha256sum of the APK)'),
  signatureChecksum: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the signing certificate (43 characters, no padding)')
    .optional(),
  notes: text(2000).optional(),
});

export const uploadQuery = z.strictObject({
  versionCode: z.coerce.number().int().min(1).max(2_100_000_000),
  versionName: nonEmptyText(64),
  signatureChecksum: createReleaseBody.shape.signatureChecksum,
  notes: text(2000).optional(),
});

export const release = z.object({
  id: uuid,
  versionCode: z.number().int(),
  versionName: z.string(),
  /** Where it is hosted; null when the APK is stored on this server. */
  url: z.string().nullable(),
  stored: z.boolean(),
  sizeBytes: z.number().int().nullable(),
  sha256: z.string(),
  signatureChecksum: z.string().nullable(),
  notes: z.string().nullable(),
  createdAt: isoDateTime,
  createdBy: z.string().nullable(),
  downloads: z.number().int(),
});

export const releasePage = page(release);
export const listReleasesQuery = z.object({ limit: limitQuery(50, 200) });

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
