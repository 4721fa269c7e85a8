import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unsignedApk, zip, binaryManifest } from '../../../docs/vectors/apk/build-apk.mjs';
import { bufferAccess, type RandomAccess } from '../ports/spool.js';
import { ApkError, parseApk } from './apk-parser.js';

const dir = new URL('../../../docs/vectors/apk/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`${name}.apk`, dir));
/** What apksigner printed for each fixture when it was made (make-fixtures.sh). */
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  { sha256: string; signerSha256: string }
>;

const code = async (f: () => Promise<unknown>) => {
  try {
    await f();
  } catch (err) {
    if (err instanceof ApkError) return err.code;
    throw err;
  }
  return 'parsed';
};

describe('parseApk on APKs signed by apksigner', async () => {
  it('reads the manifest and the v3 signer of a v2+v3 APK, as apksigner does', async () => {
    expect(await parseApk(fixture('agent-1'))).toEqual({
      packageName: 'dev.fleetmdm.agent',
      versionCode: 1,
      versionName: '1.0.0',
      minSdk: 24,
      targetSdk: 34,
      scheme: 'v3',
      signerSha256: [expected['agent-1']!.signerSha256],
      sha256: expected['agent-1']!.sha256,
      sizeBytes: fixture('agent-1').length,
    });
  });

  it.each(['agent-2', 'agent-2-other-signer', 'kiosk-10'])('agrees with apksigner on %s (RSA and ECDSA, v2 and v3)', async (name) => {
    const info = await parseApk(fixture(name));
    expect(info.signerSha256).toEqual([expected[name]!.signerSha256]);
    expect(info.sha256).toBe(expected[name]!.sha256);
  });

  it('reads a v2-only APK through its v2 block', async () => {
    expect(await parseApk(fixture('kiosk-10'))).toMatchObject({ packageName: 'com.example.kiosk', versionCode: 10, scheme: 'v2' });
  });

  it('refuses v1-only (JAR-signed) and unsigned APKs as unsigned_apk', async () => {
    expect(await code(() => parseApk(fixture('agent-3-v1-only')))).toBe('unsigned_apk');
    expect(await code(() => parseApk(unsignedApk({ packageName: 'a.b', versionCode: 1, versionName: '1' })))).toBe('unsigned_apk');
  });

  it('refuses an APK changed after signing: a byte of an entry, of the central directory, or the certificate', async () => {
    const apk = fixture('agent-1');
    const entry = Buffer.from(apk);
    entry[40] = entry[40]! ^ 1; // inside the manifest's compressed bytes or name
    expect(['invalid_signature', 'not_an_apk', 'invalid_manifest']).toContain(await code(() => parseApk(entry)));
    const time = Buffer.from(apk);
    time[10] = time[10]! ^ 1; // the first entry's modification time: read by nobody, covered by the signature
    expect(await code(() => parseApk(time))).toBe('invalid_signature');
    const cd = Buffer.from(apk);
    const cdAt = cd.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    cd[cdAt + 12] = cd[cdAt + 12]! ^ 1; // the last entry's time
    expect(await code(() => parseApk(cd))).toBe('invalid_signature');
    const cert = Buffer.from(apk);
    // every copy of the certificate (the v2 and the v3 signer each carry one)
    for (let at = cert.indexOf('fleet-mdm-test-a'); at >= 0; at = cert.indexOf('fleet-mdm-test-a', at + 1)) cert[at] = 'F'.charCodeAt(0);
    expect(await code(() => parseApk(cert))).toBe('invalid_signature');
  });

  it('refuses what is not an APK with a 4xx code and never throws anything else', async () => {
    const apk = fixture('agent-1');
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['text', Buffer.from('hello, not a zip at all, really not')],
      ['zip header only', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(300, 7)])],
      ['zip of hello.txt', zip([{ name: 'hello.txt', data: Buffer.from('hello') }])],
      ['text manifest', zip([{ name: 'AndroidManifest.xml', data: Buffer.from('<manifest package="a.b"/>') }])],
      ['no package', zip([{ name: 'AndroidManifest.xml', data: binaryManifest({ packageName: 'nodots', versionCode: 1 }) }])],
      ['versionCode 0', zip([{ name: 'AndroidManifest.xml', data: binaryManifest({ packageName: 'a.b', versionCode: 0 }) }])],
      ['truncated', apk.subarray(0, apk.length - 30)],
      ['cut in half', apk.subarray(0, apk.length >> 1)],
    ];
    for (const [name, bytes] of cases) {
      expect(['not_an_apk', 'invalid_manifest', 'unsigned_apk', 'invalid_signature'], name).toContain(await code(() => parseApk(bytes)));
    }
    // random corruption anywhere: always an ApkError, never a crash
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(apk);
      bad[Math.floor(Math.random() * bad.length)] = Math.floor(Math.random() * 256);
      const c = await code(() => parseApk(bad));
      expect(typeof c).toBe('string');
    }
  });

  it('reads a manifest without versionName or uses-sdk defaults', async () => {
    const xml = binaryManifest({ packageName: 'com.example.x', versionCode: 7 });
    const apk = zip([{ name: 'AndroidManifest.xml', data: xml, store: true }]);
    expect(await code(() => parseApk(apk))).toBe('unsigned_apk'); // parsed as far as the signature
  });
});

describe('parseApk reads by position', () => {
  /** A reader that counts what the parser asks for. */
  const counting = (bytes: Buffer) => {
    const inner = bufferAccess(bytes);
    const seen = { total: 0, largest: 0 };
    const reader: RandomAccess = {
      size: inner.size,
      read: (offset, length) => {
        seen.total += length;
        seen.largest = Math.max(seen.largest, length);
        return inner.read(offset, length);
      },
    };
    return { reader, seen };
  };

  it('reads the end record, central directory and manifest of a 20 MiB APK, not its entries', async () => {
    const big = zip([
      { name: 'AndroidManifest.xml', data: binaryManifest({ packageName: 'com.example.big', versionCode: 1 }) },
      { name: 'assets/big.bin', data: Buffer.alloc(20 * 1024 * 1024, 1), store: true },
    ]);
    const { reader, seen } = counting(big);
    expect(await code(() => parseApk(reader, 'f'.repeat(64)))).toBe('unsigned_apk'); // as far as the signature
    expect(seen.total).toBeLessThan(100 * 1024);
  });

  it('checks a signed APK reading at most 1 MiB at a time (plus the ZIP tail), with the same answer as from memory', async () => {
    const apk = fixture('agent-1');
    const { reader, seen } = counting(apk);
    expect(await parseApk(reader)).toEqual(await parseApk(apk));
    expect(seen.largest).toBeLessThanOrEqual(1024 * 1024 + 22 + 0xffff);
  });
});
