import { describe, expect, it } from 'vitest';
import { fallbackRelease, hexToBase64Url, provisioningPayload } from './provisioning.js';

const release = {
  packageName: 'dev.fleetmdm.agent',
  componentName: 'dev.fleetmdm.agent/.AdminReceiver',
  serverUrl: 'https://mdm.example.com',
  downloadUrl: 'https://mdm.example.com/api/v1/apk/latest',
  versionCode: 3,
  versionName: '1.0.3',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  signatureChecksum: 'ZmFrZS1jZXJ0LWNoZWNrc3VtLWZvci10ZXN0cy0xMjM0NTY',
};
const TOKEN = 'mdmet_' + 'A'.repeat(43);

describe('the QR provisioning payload', () => {
  it('names the admin component, the download, the signing certificate and the enrollment extras', () => {
    const p = provisioningPayload(release, TOKEN);
    expect(p.missing).toEqual([]);
    expect(JSON.parse(p.json)).toEqual({
      'android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME': 'dev.fleetmdm.agent/.AdminReceiver',
      'android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION': 'https://mdm.example.com/api/v1/apk/latest',
      'android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM': release.signatureChecksum,
      'android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED': true,
      'android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE': { server_url: 'https://mdm.example.com', enrollment_token: TOKEN },
    });
  });

  it('falls back to the APK checksum, base64url without padding, when the certificate is unknown', () => {
    expect(hexToBase64Url(release.sha256)).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    const p = JSON.parse(provisioningPayload({ ...release, signatureChecksum: null }, TOKEN).json);
    expect(p['android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_CHECKSUM']).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(p['android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM']).toBeUndefined();
  });

  it('says what is missing before a device would accept it', () => {
    const p = provisioningPayload(fallbackRelease('http://localhost:8080'), TOKEN);
    expect(p.missing).toHaveLength(2);
    expect(p.missing.join(' ')).toMatch(/agent release in the catalog.*Releases page.*https download URL/);
    expect(JSON.parse(p.json)['android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE'].server_url).toBe('http://localhost:8080');
  });
});
