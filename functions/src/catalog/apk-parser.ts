import { createHash } from 'node:crypto';
import { parseManifest, type ManifestInfo } from './apk-manifest.js';
import { readSigners, type SigningInfo } from './apk-signing.js';
import { bufferAccess, type RandomAccess } from '../ports/spool.js';
import { ApkError, readEntry, zipLayout } from './apk-zip.js';

export { ApkError } from './apk-zip.js';

export interface ApkInfo extends ManifestInfo, SigningInfo {
  /** Lower-case hex SHA-256 of the whole file (what devices check after downloading). */
  sha256: string;
  sizeBytes: number;
}

/**
 * Reads what the catalog needs from an APK: the manifest's package, versions and SDK levels, and the
 * v2/v3 signers' certificate digests after verifying their signatures over the file. Everything that
 * is not a well-formed, v2/v3-signed APK throws an `ApkError` whose code the API returns (a 4xx).
 * Reads by position (a spooled file or bytes in memory): the ZIP's end record and central directory,
 * the manifest entry and the signing block, then the entries once in 1 MiB chunks for the content
 * digest - never the whole file at once. `sha256` is the file's hash when the caller already has it
 * (the spool computes it while writing); otherwise it is computed here.
 */
export async function parseApk(apk: RandomAccess | Buffer, sha256?: string): Promise<ApkInfo> {
  const file = Buffer.isBuffer(apk) ? bufferAccess(apk) : apk;
  try {
    const zip = await zipLayout(file);
    const manifestXml = await readEntry(file, zip, 'AndroidManifest.xml');
    if (!manifestXml) throw new ApkError('invalid_manifest', 'the archive has no AndroidManifest.xml');
    const manifest = parseManifest(manifestXml);
    const signing = await readSigners(file, zip);
    return { ...manifest, ...signing, sha256: sha256 ?? (await fileSha256(file)), sizeBytes: file.size };
  } catch (err) {
    if (err instanceof ApkError) throw err;
    // the file could not be read (the disk, not the upload): not the client's fault
    if (/^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code))) throw err;
    // a read past the end of a truncated or hostile structure
    if (err instanceof RangeError) throw new ApkError('not_an_apk', 'the APK is truncated or corrupt');
    // anything else a hostile file can make a decoder throw (a key that does not parse, a bad inflate
    // stream): a corrupt upload is the client's, never a 500
    throw new ApkError('not_an_apk', 'the APK is corrupt or malformed');
  }
}

async function fileSha256(file: RandomAccess): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < file.size; at += 1024 * 1024) hash.update(await file.read(at, Math.min(1024 * 1024, file.size - at)));
  return hash.digest('hex');
}
