import type { AgentRelease } from './types.js';

/**
 * Android QR-code provisioning (a factory-reset device, tap the welcome screen six times, scan):
 * the JSON names the agent's DeviceAdminReceiver, where to download the APK, a checksum Android
 * verifies before installing, and - in the admin extras bundle - what the ADB script passes to the
 * agent's enroll receiver (server_url, enrollment_token).
 */
const EXTRA = 'android.app.extra.';

export interface Provisioning {
  json: string;
  /** What is missing for a device to accept it (shown as a hint). */
  missing: string[];
}

/** Hex SHA-256 to the URL-safe base64 without padding Android expects for PACKAGE_CHECKSUM. */
export function hexToBase64Url(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function provisioningPayload(release: AgentRelease, enrollmentToken: string): Provisioning {
  const missing: string[] = [];
  const payload: Record<string, unknown> = {
    [`${EXTRA}PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME`]: release.componentName,
    [`${EXTRA}PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION`]: release.downloadUrl,
  };
  // The signing certificate's checksum survives agent updates; the APK's own changes with each release.
  if (release.signatureChecksum) payload[`${EXTRA}PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM`] = release.signatureChecksum;
  else if (release.sha256 && /^[0-9a-f]{64}$/i.test(release.sha256)) {
    payload[`${EXTRA}PROVISIONING_DEVICE_ADMIN_PACKAGE_CHECKSUM`] = hexToBase64Url(release.sha256.toLowerCase());
  } else missing.push('an agent release in the catalog (upload the agent APK on the Releases page)');
  if (!release.downloadUrl.startsWith('https://')) missing.push('an https download URL (set PUBLIC_URL to the https address devices reach)');
  payload[`${EXTRA}PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED`] = true;
  payload[`${EXTRA}PROVISIONING_ADMIN_EXTRAS_BUNDLE`] = { server_url: release.serverUrl, enrollment_token: enrollmentToken };
  return { json: JSON.stringify(payload), missing };
}

/** What the console knows without GET /api/v1/admin/agent-release (an older server): this origin and the default agent. */
export function fallbackRelease(origin: string): AgentRelease {
  return {
    packageName: 'dev.fleetmdm.agent',
    componentName: 'dev.fleetmdm.agent/.AdminReceiver',
    serverUrl: origin,
    downloadUrl: `${origin}/api/v1/apk/latest`,
    versionCode: null,
    versionName: null,
    sha256: null,
    signatureChecksum: null,
  };
}
