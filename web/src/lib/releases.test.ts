import { describe, expect, it } from 'vitest';
import { ApiError } from './api.js';
import { byPackage, normalizeDigest, rotateError, shortDigest, uploadError } from './releases.js';
import type { CatalogPackage, Release } from './types.js';

const release = (packageName: string, versionCode: number): Release =>
  ({ id: `${packageName}-${versionCode}`, packageName, versionCode, versionName: String(versionCode) }) as Release;
const pin = (packageName: string): CatalogPackage => ({ packageName }) as CatalogPackage;

describe('uploadError', () => {
  const refused = (status: number, code: string, message = 'server words') => uploadError(new ApiError(status, code, message));

  it('says in plain words why the catalog refused an upload', () => {
    expect(refused(409, 'signer_mismatch')).toMatch(/signed with a different key.*rotates the package's signer/);
    expect(refused(409, 'downgrade_refused')).toMatch(/older version.*Allow a downgrade/);
    expect(refused(409, 'release_exists')).toMatch(/already in the catalog.*higher versionCode/);
    expect(refused(400, 'unsigned_apk')).toMatch(/not signed with APK Signature Scheme v2 or v3/);
    expect(uploadError(new ApiError(400, 'not_an_apk', 'x'), { name: 'notes.txt', size: 10 })).toMatch(/"notes.txt" is not an Android APK/);
    expect(refused(400, 'invalid_signature')).toMatch(/changed after it was signed/);
  });

  it('names the size limit from the 413, and a cut-off upload of a big file', () => {
    const tooBig = new ApiError(413, 'payload_too_large', 'request bodies are limited to 33554432 bytes');
    expect(uploadError(tooBig, { name: 'a.apk', size: 40 * 1024 * 1024 })).toBe(
      'Refused: the file is too large (40 MiB); this server accepts APKs up to 32 MiB (APK_MAX_BYTES).',
    );
    expect(uploadError(new ApiError(0, 'upload_failed', ''), { name: 'a.apk', size: 40 * 1024 * 1024 })).toMatch(/larger than the server accepts/);
    expect(uploadError(new ApiError(0, 'upload_failed', ''), { name: 'a.apk', size: 1000 })).not.toMatch(/larger/);
  });

  it('says why a registration by URL was refused, and the limit of a too-large download', () => {
    expect(refused(400, 'url_not_https')).toMatch(/https:\/\/ address/);
    expect(refused(422, 'destination_refused')).toMatch(/may not connect to that address/);
    expect(refused(422, 'download_failed', 'the server answered 404, not 200')).toMatch(/could not download the APK: the server answered 404, not 200/);
    const tooBig = new ApiError(413, 'download_too_large', 'the file at the url is larger than the 33554432-byte limit for APKs');
    expect(uploadError(tooBig)).toMatch(/too large; this server accepts APKs up to 32 MiB/);
  });

  it('falls back to the server message for anything else', () => {
    expect(refused(400, 'something_new', 'the server says why')).toBe('the server says why');
    expect(refused(403, 'forbidden')).toMatch(/role does not allow/);
  });
});

describe('signer digests', () => {
  it('accepts apksigner output with colons, spaces or capitals', () => {
    expect(normalizeDigest(' AF:5A:72 d5 ')).toBe('af5a72d5');
    expect(shortDigest('af5a72d51ab84a470b6cdd5d09f2c89b602fe4af0c00496796de43578e6780a5')).toBe('af5a72d5…8e6780a5');
    expect(rotateError(new ApiError(409, 'signer_unchanged', 'x'))).toMatch(/already pinned/);
  });
});

describe('byPackage', () => {
  it('puts the agent first, then packages by name, each newest version first; a pin without releases is kept', () => {
    const groups = byPackage(
      [release('com.example.kiosk', 10), release('dev.fleetmdm.agent', 1), release('dev.fleetmdm.agent', 3), release('com.acme.menu', 5)],
      [pin('dev.fleetmdm.agent'), pin('com.example.kiosk'), pin('com.zz.empty')],
      'dev.fleetmdm.agent',
    );
    expect(groups.map((g) => [g.packageName, g.releases.map((r) => r.versionCode), !!g.pin])).toEqual([
      ['dev.fleetmdm.agent', [3, 1], true],
      ['com.acme.menu', [5], false],
      ['com.example.kiosk', [10], true],
      ['com.zz.empty', [], true],
    ]);
  });
});
