import { inflateRawSync } from 'node:zlib';
import type { RandomAccess } from '../ports/spool.js';

/** Why an upload is not an APK this server accepts; `code` is the API's error code. */
export class ApkError extends Error {
  override name = 'ApkError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ZipLayout {
  /** Offset of the End of Central Directory record. */
  eocdOffset: number;
  centralDirOffset: number;
  centralDirSize: number;
  entryCount: number;
  /** The End of Central Directory record and the archive comment after it. */
  eocd: Buffer;
  /** The central directory, read once (the manifest lookup and the content digest both need it). */
  centralDir: Buffer;
}

const EOCD_SIG = 0x06054b50;
const CD_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
/** A manifest larger than this is not a manifest (real ones are a few KB; this bounds inflation). */
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;
/** A central directory larger than this is refused (46 bytes and a name per entry: real ones are well under 1 MiB). */
const MAX_CENTRAL_DIR_BYTES = 16 * 1024 * 1024;

/**
 * Finds the ZIP's End of Central Directory (the comment may follow it, up to 65535 bytes) and reads
 * the central directory. Reads only the file's first 4 bytes, its last 64 KiB and the directory.
 */
export async function zipLayout(apk: RandomAccess): Promise<ZipLayout> {
  if (apk.size < EOCD_MIN + 4 || (await apk.read(0, 4)).readUInt32LE(0) !== LOCAL_SIG) {
    throw new ApkError('not_an_apk', 'the body is not a ZIP archive');
  }
  const tailStart = Math.max(0, apk.size - EOCD_MIN - 0xffff);
  const tail = await apk.read(tailStart, apk.size - tailStart);
  for (let at = tail.length - EOCD_MIN; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== EOCD_SIG) continue;
    const commentLength = tail.readUInt16LE(at + 20);
    if (at + EOCD_MIN + commentLength !== tail.length) continue;
    const eocdOffset = tailStart + at;
    const entryCount = tail.readUInt16LE(at + 10);
    const centralDirSize = tail.readUInt32LE(at + 12);
    const centralDirOffset = tail.readUInt32LE(at + 16);
    if (centralDirOffset === 0xffffffff || entryCount === 0xffff) throw new ApkError('not_an_apk', 'ZIP64 archives are not supported');
    if (centralDirOffset + centralDirSize !== eocdOffset)
      throw new ApkError('not_an_apk', 'the ZIP central directory is not where its end record says');
    if (centralDirSize > MAX_CENTRAL_DIR_BYTES) throw new ApkError('not_an_apk', 'the ZIP central directory is too large');
    return {
      eocdOffset,
      centralDirOffset,
      centralDirSize,
      entryCount,
      eocd: Buffer.from(tail.subarray(at)),
      centralDir: await apk.read(centralDirOffset, centralDirSize),
    };
  }
  throw new ApkError('not_an_apk', 'the ZIP archive has no end of central directory record');
}

/** The uncompressed bytes of one entry (stored or deflated), or null when the archive has none by that name. */
export async function readEntry(apk: RandomAccess, layout: ZipLayout, name: string): Promise<Buffer | null> {
  const cd = layout.centralDir;
  let at = 0;
  for (let i = 0; i < layout.entryCount; i++) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== CD_SIG) throw new ApkError('not_an_apk', 'the ZIP central directory is corrupt');
    const method = cd.readUInt16LE(at + 10);
    const compressedSize = cd.readUInt32LE(at + 20);
    const size = cd.readUInt32LE(at + 24);
    const nameLength = cd.readUInt16LE(at + 28);
    const extraLength = cd.readUInt16LE(at + 30);
    const commentLength = cd.readUInt16LE(at + 32);
    const localOffset = cd.readUInt32LE(at + 42);
    const entryName = cd.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (size > MAX_ENTRY_BYTES || compressedSize > MAX_ENTRY_BYTES) throw new ApkError('invalid_manifest', `${name} is too large`);
    if (localOffset + 30 > layout.centralDirOffset) throw new ApkError('not_an_apk', `the ZIP entry ${name} is corrupt`);
    const local = await apk.read(localOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL_SIG) throw new ApkError('not_an_apk', `the ZIP entry ${name} is corrupt`);
    const start = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (start + compressedSize > layout.centralDirOffset) throw new ApkError('not_an_apk', `the ZIP entry ${name} is truncated`);
    const data = await apk.read(start, compressedSize);
    try {
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data, { maxOutputLength: MAX_ENTRY_BYTES });
    } catch {
      throw new ApkError('not_an_apk', `the ZIP entry ${name} does not inflate`);
    }
    throw new ApkError('not_an_apk', `the ZIP entry ${name} uses compression method ${method}`);
  }
  return null;
}
