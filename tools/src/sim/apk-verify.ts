import { createHash } from 'node:crypto';

/**
 * What the agent checks on a downloaded APK before installing it, as the simulator does: the file's
 * SHA-256 and its signer's certificate digest must be the ones in the signed INSTALL_APK envelope.
 * The signer is read from the APK Signing Block (v3, else v2): the first certificate of each signer,
 * hashed. Android's package manager verifies the signatures themselves at install time; the server
 * verified them at upload. Independent of the backend's parser on purpose (the simulator is a client).
 */
export type ApkVerdict = { ok: true } | { ok: false; reason: 'sha256_mismatch' | 'signer_mismatch' | 'unsigned_apk' };

const MAGIC = Buffer.from('APK Sig Block 42', 'latin1');
const V2 = 0x7109871a;
const V3 = 0xf05368c0;

export function verifyApk(apk: Buffer, expected: { sha256: string; signerSha256: string }): ApkVerdict {
  if (createHash('sha256').update(apk).digest('hex') !== expected.sha256.toLowerCase()) return { ok: false, reason: 'sha256_mismatch' };
  let signers: string[];
  try {
    signers = apkSigners(apk);
  } catch {
    return { ok: false, reason: 'unsigned_apk' };
  }
  if (signers.length === 0) return { ok: false, reason: 'unsigned_apk' };
  return signers.length === 1 && signers[0] === expected.signerSha256.toLowerCase()
    ? { ok: true }
    : { ok: false, reason: 'signer_mismatch' };
}

/** Lower-case hex SHA-256 of each signer's certificate; throws on a malformed block, [] without one. */
export function apkSigners(apk: Buffer): string[] {
  // the End of Central Directory record, then the signing block right before the central directory
  let eocd = -1;
  for (let at = apk.length - 22; at >= Math.max(0, apk.length - 22 - 0xffff); at--) {
    if (apk.readUInt32LE(at) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a ZIP archive');
  const cd = apk.readUInt32LE(eocd + 16);
  if (cd < 32 || !apk.subarray(cd - 16, cd).equals(MAGIC)) return [];
  const start = cd - Number(apk.readBigUInt64LE(cd - 24)) - 8;
  const pairs = new Map<number, Buffer>();
  for (let at = start + 8; at < cd - 24;) {
    const len = Number(apk.readBigUInt64LE(at));
    pairs.set(apk.readUInt32LE(at + 8), apk.subarray(at + 12, at + 8 + len));
    at += 8 + len;
  }
  const scheme = pairs.get(V3) ?? pairs.get(V2);
  if (!scheme) return [];
  return items(prefixed(scheme, 0)).map((signer) => {
    const signedData = prefixed(signer, 0);
    const digests = prefixed(signedData, 0);
    const cert = items(prefixed(signedData, 4 + digests.length))[0];
    if (!cert) throw new Error('a signer without a certificate');
    return createHash('sha256').update(cert).digest('hex');
  });
}

function prefixed(buf: Buffer, at: number): Buffer {
  const n = buf.readUInt32LE(at);
  if (at + 4 + n > buf.length) throw new Error('truncated');
  return buf.subarray(at + 4, at + 4 + n);
}

function items(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += 4 + buf.readUInt32LE(at)) out.push(prefixed(buf, at));
  return out;
}
