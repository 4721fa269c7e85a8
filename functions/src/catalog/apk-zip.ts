import { inflateRawSync } from 'node:zlib';

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
}

const EOCD_SIG = 0x06054b50;
const CD_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
/** A manifest larger than this is not a manifest (real ones are a few KB; this bounds inflation). */
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;

/** Finds the ZIP's End of Central Directory (the comment may follow it, up to 65535 bytes). */
export function zipLayout(apk: Buffer): ZipLayout {
  if (apk.length < EOCD_MIN + 4 || apk.readUInt32LE(0) !== LOCAL_SIG) throw new ApkError('not_an_apk', 'the body is not a ZIP archive');
  const lowest = Math.max(0, apk.length - EOCD_MIN - 0xffff);
  for (let at = apk.length - EOCD_MIN; at >= lowest; at--) {
    if (apk.readUInt32LE(at) !== EOCD_SIG) continue;
    const commentLength = apk.readUInt16LE(at + 20);
    if (at + EOCD_MIN + commentLength !== apk.length) continue;
    const entryCount = apk.readUInt16LE(at + 10);
    const centralDirSize = apk.readUInt32LE(at + 12);
    const centralDirOffset = apk.readUInt32LE(at + 16);
    if (centralDirOffset === 0xffffffff || entryCount === 0xffff) throw new ApkError('not_an_apk', 'ZIP64 archives are not supported');
    if (centralDirOffset + centralDirSize !== at)
      throw new ApkError('not_an_apk', 'the ZIP central directory is not where its end record says');
    return { eocdOffset: at, centralDirOffset, centralDirSize, entryCount };
  }
  throw new ApkError('not_an_apk', 'the ZIP archive has no end of central directory record');
}

/** The uncompressed bytes of one entry (stored or deflated), or null when the archive has none by that name. */
export function readEntry(apk: Buffer, layout: ZipLayout, name: string): Buffer | null {
  let at = layout.centralDirOffset;
  for (let i = 0; i < layout.entryCount; i++) {
    if (at + 46 > layout.eocdOffset || apk.readUInt32LE(at) !== CD_SIG)
      throw new ApkError('not_an_apk', 'the ZIP central directory is corrupt');
    const method = apk.readUInt16LE(at + 10);
    const compressedSize = apk.readUInt32LE(at + 20);
    const size = apk.readUInt32LE(at + 24);
    const nameLength = apk.readUInt16LE(at + 28);
    const extraLength = apk.readUInt16LE(at + 30);
    const commentLength = apk.readUInt16LE(at + 32);
    const localOffset = apk.readUInt32LE(at + 42);
    const entryName = apk.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (size > MAX_ENTRY_BYTES) throw new ApkError('invalid_manifest', `${name} is too large`);
    if (localOffset + 30 > layout.centralDirOffset || apk.readUInt32LE(localOffset) !== LOCAL_SIG) {
      throw new ApkError('not_an_apk', `the ZIP entry ${name} is corrupt`);
    }
    const start = localOffset + 30 + apk.readUInt16LE(localOffset + 26) + apk.readUInt16LE(localOffset + 28);
    if (start + compressedSize > layout.centralDirOffset) throw new ApkError('not_an_apk', `the ZIP entry ${name} is truncated`);
    const data = apk.subarray(start, start + compressedSize);
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
