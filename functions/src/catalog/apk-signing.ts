import { createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { RandomAccess } from '../ports/spool.js';
import { ApkError, type ZipLayout } from './apk-zip.js';

/**
 * The APK Signing Block (https://source.android.com/docs/security/features/apksigning/v2): between
 * the ZIP entries and the central directory, `u64 size, (u64 len, u32 id, value)*, u64 size,
 * "APK Sig Block 42"`. v2 and v3 schemes store signers there; each signer's signed data holds the
 * digests of the APK's contents and its X.509 certificates, signed with the signer's key.
 */
export interface SigningInfo {
  /** The scheme the signer digests come from: v3 when present (it is what Android 9+ trusts), else v2. */
  scheme: 'v2' | 'v3';
  /** Lower-case hex SHA-256 of each signer's certificate (DER), one per signer. */
  signerSha256: string[];
}

const MAGIC = Buffer.from('APK Sig Block 42', 'latin1');
export const V2_ID = 0x7109871a;
export const V3_ID = 0xf05368c0;
const CHUNK = 1024 * 1024;
/** A signing block larger than this is refused (real ones are a few KiB, 4 KiB-aligned with verity padding). */
const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/** Signature algorithm ids -> how to verify; the verity-only ids (0x04xx) are not checked here. */
const ALGORITHMS: Record<number, { hash: 'sha256' | 'sha512'; pss?: boolean }> = {
  0x0101: { hash: 'sha256', pss: true },
  0x0102: { hash: 'sha512', pss: true },
  0x0103: { hash: 'sha256' },
  0x0104: { hash: 'sha512' },
  0x0201: { hash: 'sha256' },
  0x0202: { hash: 'sha512' },
  0x0301: { hash: 'sha256' },
};

/** Reads a u32-length-prefixed sequence of u32-length-prefixed items. */
function sequence(buf: Buffer): Buffer[] {
  const items: Buffer[] = [];
  for (let at = 0; at < buf.length;) {
    const n = buf.readUInt32LE(at);
    if (at + 4 + n > buf.length) throw new ApkError('invalid_signature', 'the APK signing block is truncated');
    items.push(buf.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return items;
}

/** A u32-length-prefixed field at `at`, and where the next one starts. */
function field(buf: Buffer, at: number): [Buffer, number] {
  const n = buf.readUInt32LE(at);
  if (at + 4 + n > buf.length) throw new ApkError('invalid_signature', 'the APK signing block is truncated');
  return [buf.subarray(at + 4, at + 4 + n), at + 4 + n];
}

/** The pairs of the signing block by id, and where the block starts; null when the APK has none. */
export async function signingBlock(apk: RandomAccess, zip: ZipLayout): Promise<{ start: number; pairs: Map<number, Buffer> } | null> {
  const cd = zip.centralDirOffset;
  if (cd < 32) return null;
  const footer = await apk.read(cd - 24, 24);
  if (!footer.subarray(8).equals(MAGIC)) return null;
  const size = Number(footer.readBigUInt64LE(0));
  const start = cd - size - 8;
  if (size < 24 || start < 0) throw new ApkError('invalid_signature', 'the APK signing block sizes disagree');
  if (size > MAX_BLOCK_BYTES) throw new ApkError('invalid_signature', 'the APK signing block is too large');
  const block = await apk.read(start, size + 8);
  if (Number(block.readBigUInt64LE(0)) !== size) throw new ApkError('invalid_signature', 'the APK signing block sizes disagree');
  const end = block.length - 24;
  const pairs = new Map<number, Buffer>();
  for (let at = 8; at < end;) {
    const len = Number(block.readBigUInt64LE(at));
    if (len < 4 || at + 8 + len > end) throw new ApkError('invalid_signature', 'the APK signing block is corrupt');
    pairs.set(block.readUInt32LE(at + 8), block.subarray(at + 12, at + 8 + len));
    at += 8 + len;
  }
  return { start, pairs };
}

/**
 * The signer certificates' digests from the v3 (else v2) scheme, after checking each signer: its
 * signature over the signed data with its public key, that key being its certificate's, and the
 * signed content digest matching this APK. Throws `unsigned_apk` when neither scheme is present (a
 * v1-only JAR signature is not accepted) and `invalid_signature` when a check fails.
 */
export async function readSigners(apk: RandomAccess, zip: ZipLayout): Promise<SigningInfo> {
  const block = await signingBlock(apk, zip);
  const v3 = block?.pairs.get(V3_ID);
  const v2 = block?.pairs.get(V2_ID);
  if (!block || (!v2 && !v3)) {
    throw new ApkError('unsigned_apk', 'the APK has no APK Signature Scheme v2/v3 signature (v1-only or unsigned APKs are refused)');
  }
  const scheme = v3 ? 'v3' : 'v2';
  const signers = sequence(field((v3 ?? v2)!, 0)[0]);
  if (signers.length === 0) throw new ApkError('invalid_signature', 'the APK signature block names no signer');
  const digests = new Map<'sha256' | 'sha512', Buffer>();
  const signerSha256 = signers.map((s) => {
    const [signedData, afterSignedData] = field(s, 0);
    let at = afterSignedData;
    if (scheme === 'v3') at += 8; // minSdk, maxSdk
    const [signatures, afterSignatures] = field(s, at);
    const [publicKeyDer] = field(s, afterSignatures);
    const [digestsSeq, afterDigests] = field(signedData, 0);
    const [certs] = field(signedData, afterDigests);
    const cert = sequence(certs)[0];
    if (!cert) throw new ApkError('invalid_signature', 'an APK signer has no certificate');
    const key = checkSignerKey(cert, publicKeyDer);
    const checked = checkSignatures(sequence(signatures), signedData, key);
    for (const d of sequence(digestsSeq)) {
      const algorithm = d.readUInt32LE(0);
      if (checked.has(algorithm)) digests.set(ALGORITHMS[algorithm]!.hash, field(d, 4)[0]);
    }
    return createHash('sha256').update(cert).digest('hex');
  });
  if (digests.size === 0) throw new ApkError('invalid_signature', 'the APK signature has no content digest this server can check');
  const actual = await contentDigests(apk, zip, block.start, [...digests.keys()]);
  for (const [hash, expected] of digests) {
    if (!actual.get(hash)!.equals(expected)) {
      throw new ApkError('invalid_signature', "the APK's contents do not match its signature (modified after signing)");
    }
  }
  return { scheme, signerSha256 };
}

function checkSignerKey(certDer: Buffer, publicKeyDer: Buffer): KeyObject {
  let cert: X509Certificate;
  let spki: Buffer;
  try {
    cert = new X509Certificate(certDer);
    spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    throw new ApkError('invalid_signature', "an APK signer's certificate is not X.509 or its key cannot be read");
  }
  if (!spki.equals(publicKeyDer)) throw new ApkError('invalid_signature', "an APK signer's public key is not its certificate's");
  return cert.publicKey;
}

/** Verifies the signer's signatures with the algorithms this server knows; returns the algorithms that verified. */
function checkSignatures(signatures: Buffer[], signedData: Buffer, key: KeyObject): Set<number> {
  const ok = new Set<number>();
  for (const s of signatures) {
    const algorithm = s.readUInt32LE(0);
    const how = ALGORITHMS[algorithm];
    if (!how) continue;
    const [signature] = field(s, 4);
    const padding = how.pss ? { padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: how.hash === 'sha256' ? 32 : 64 } : {};
    let valid: boolean;
    try {
      valid = verify(how.hash, signedData, { key, ...padding }, signature);
    } catch {
      valid = false; // a key that does not fit the algorithm
    }
    if (!valid) throw new ApkError('invalid_signature', 'an APK signer signature does not verify');
    ok.add(algorithm);
  }
  if (ok.size === 0) throw new ApkError('invalid_signature', 'the APK is signed only with algorithms this server cannot check');
  return ok;
}

/**
 * The v2/v3 content digests: the entries, the central directory and the end record (its central
 * directory offset pointing at the signing block) in 1 MiB chunks, each hashed as 0xa5 || len || chunk,
 * then 0x5a || count || the chunk digests. One pass over the file, one chunk in memory at a time,
 * for every hash the signers use.
 */
export async function contentDigests(
  apk: RandomAccess,
  zip: ZipLayout,
  blockStart: number,
  hashes: ('sha256' | 'sha512')[],
): Promise<Map<'sha256' | 'sha512', Buffer>> {
  const eocd = Buffer.from(zip.eocd);
  eocd.writeUInt32LE(blockStart, 16);
  const chunks = new Map(hashes.map((h) => [h, [] as Buffer[]]));
  const add = (chunk: Buffer) => {
    const len = Buffer.alloc(5);
    len[0] = 0xa5;
    len.writeUInt32LE(chunk.length, 1);
    for (const [h, list] of chunks) list.push(createHash(h).update(len).update(chunk).digest());
  };
  for (let at = 0; at < blockStart; at += CHUNK) add(await apk.read(at, Math.min(CHUNK, blockStart - at)));
  for (const s of [zip.centralDir, eocd]) {
    for (let at = 0; at < s.length; at += CHUNK) add(s.subarray(at, Math.min(s.length, at + CHUNK)));
  }
  const out = new Map<'sha256' | 'sha512', Buffer>();
  for (const [h, list] of chunks) {
    const head = Buffer.alloc(5);
    head[0] = 0x5a;
    head.writeUInt32LE(list.length, 1);
    const top = createHash(h).update(head);
    for (const c of list) top.update(c);
    out.set(h, top.digest());
  }
  return out;
}
