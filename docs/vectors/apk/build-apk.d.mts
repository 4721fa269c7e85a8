/** Types of build-apk.mjs (a plain ES module so make-fixtures.sh runs it with node). */
export interface ManifestValues {
  packageName: string;
  versionCode: number;
  versionName?: string;
  minSdk?: number;
  targetSdk?: number;
}
export function binaryManifest(m: ManifestValues): Buffer;
export function zip(entries: { name: string; data: Buffer; store?: boolean }[]): Buffer;
export function unsignedApk(m: ManifestValues): Buffer;
