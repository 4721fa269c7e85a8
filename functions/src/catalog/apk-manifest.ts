import { ApkError } from './apk-zip.js';

/** What the catalog reads from AndroidManifest.xml. */
export interface ManifestInfo {
  packageName: string;
  versionCode: number;
  /** Null when absent or a resource reference (resolving it needs resources.arsc). */
  versionName: string | null;
  minSdk: number;
  targetSdk: number | null;
}

// Android's binary XML (frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h)
const RES_XML_TYPE = 0x0003;
const RES_STRING_POOL_TYPE = 0x0001;
const RES_XML_RESOURCE_MAP_TYPE = 0x0180;
const RES_XML_START_ELEMENT_TYPE = 0x0102;
const UTF8_FLAG = 1 << 8;
const TYPE_STRING = 0x03;
const TYPE_INT_DEC = 0x10;
const TYPE_INT_HEX = 0x11;
/** android:* attribute resource ids, which identify attributes even when their names are stripped. */
const ATTR = { versionCode: 0x0101021b, versionName: 0x0101021c, minSdkVersion: 0x0101020c, targetSdkVersion: 0x01010270 } as const;
const ANDROID_NS = 'http://schemas.android.com/apk/res/android';
const PACKAGE_NAME = /^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/;

type Value = { kind: 'string'; value: string } | { kind: 'int'; value: number } | { kind: 'other' };

/** Parses the binary AndroidManifest.xml of an APK: the package, versions and SDK levels. */
export function parseManifest(xml: Buffer): ManifestInfo {
  if (xml.length < 8 || xml.readUInt16LE(0) !== RES_XML_TYPE)
    throw new ApkError('invalid_manifest', 'AndroidManifest.xml is not binary XML');
  let strings: string[] = [];
  let resourceIds: number[] = [];
  const manifest = new Map<string, Value>();
  const usesSdk = new Map<string, Value>();
  let depth = 0;
  let at = xml.readUInt16LE(2);
  const end = Math.min(xml.length, xml.readUInt32LE(4));
  while (at + 8 <= end) {
    const type = xml.readUInt16LE(at);
    const headerSize = xml.readUInt16LE(at + 2);
    const size = xml.readUInt32LE(at + 4);
    if (size < 8 || at + size > end) throw new ApkError('invalid_manifest', 'AndroidManifest.xml has a corrupt chunk');
    if (type === RES_STRING_POOL_TYPE) strings = stringPool(xml.subarray(at, at + size));
    else if (type === RES_XML_RESOURCE_MAP_TYPE) {
      resourceIds = [];
      for (let p = at + headerSize; p + 4 <= at + size; p += 4) resourceIds.push(xml.readUInt32LE(p));
    } else if (type === RES_XML_START_ELEMENT_TYPE) {
      depth++;
      const ext = at + headerSize;
      const name = strings[xml.readUInt32LE(ext + 4)];
      const target = depth === 1 && name === 'manifest' ? manifest : depth === 2 && name === 'uses-sdk' ? usesSdk : null;
      if (target) {
        const attrStart = xml.readUInt16LE(ext + 8);
        const attrSize = xml.readUInt16LE(ext + 10);
        const count = xml.readUInt16LE(ext + 12);
        for (let i = 0; i < count; i++) {
          const a = ext + attrStart + i * attrSize;
          const ns = xml.readInt32LE(a);
          const nameIndex = xml.readUInt32LE(a + 4);
          const key = attributeKey(strings[ns] ?? null, strings[nameIndex] ?? '', resourceIds[nameIndex]);
          target.set(key, value(xml, a, strings));
        }
      }
    } else if (type === RES_XML_START_ELEMENT_TYPE + 1) depth--;
    at += size;
  }
  return manifestInfo(manifest, usesSdk);
}

/** `android:versionCode`-style keys, by resource id when the compiler kept one, else by namespace and name. */
function attributeKey(ns: string | null, name: string, resourceId: number | undefined): string {
  for (const [attr, id] of Object.entries(ATTR)) if (resourceId === id) return `android:${attr}`;
  return ns === ANDROID_NS ? `android:${name}` : name;
}

function value(xml: Buffer, a: number, strings: string[]): Value {
  const raw = xml.readInt32LE(a + 8);
  const dataType = xml.readUInt8(a + 15);
  const data = xml.readUInt32LE(a + 16);
  if (dataType === TYPE_STRING) return { kind: 'string', value: strings[data] ?? strings[raw] ?? '' };
  if (dataType === TYPE_INT_DEC || dataType === TYPE_INT_HEX) return { kind: 'int', value: data | 0 };
  return { kind: 'other' };
}

function manifestInfo(manifest: Map<string, Value>, usesSdk: Map<string, Value>): ManifestInfo {
  const pkg = manifest.get('package');
  if (pkg?.kind !== 'string' || !PACKAGE_NAME.test(pkg.value) || pkg.value.length > 255) {
    throw new ApkError('invalid_manifest', 'AndroidManifest.xml names no valid package');
  }
  const code = asInt(manifest.get('android:versionCode'));
  if (code === null || code < 1) throw new ApkError('invalid_manifest', 'AndroidManifest.xml has no positive android:versionCode');
  const name = manifest.get('android:versionName');
  return {
    packageName: pkg.value,
    versionCode: code,
    versionName: name?.kind === 'string' && name.value.length > 0 ? name.value.slice(0, 64) : null,
    minSdk: asInt(usesSdk.get('android:minSdkVersion')) ?? 1,
    targetSdk: asInt(usesSdk.get('android:targetSdkVersion')),
  };
}

/** An int attribute; SDK levels may also be written as a decimal string. */
function asInt(v: Value | undefined): number | null {
  if (v?.kind === 'int') return v.value;
  if (v?.kind === 'string' && /^\d{1,9}$/.test(v.value)) return Number(v.value);
  return null;
}

function stringPool(chunk: Buffer): string[] {
  const count = chunk.readUInt32LE(8);
  const flags = chunk.readUInt32LE(16);
  const stringsStart = chunk.readUInt32LE(20);
  const headerSize = chunk.readUInt16LE(2);
  if (count > 100_000) throw new ApkError('invalid_manifest', 'AndroidManifest.xml has too many strings');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let p = stringsStart + chunk.readUInt32LE(headerSize + i * 4);
    if (flags & UTF8_FLAG) {
      p += chunk[p]! & 0x80 ? 2 : 1; // length in UTF-16 units
      let n = chunk[p]!;
      if (n & 0x80) n = ((n & 0x7f) << 8) | chunk[++p]!;
      p++;
      out.push(chunk.toString('utf8', p, p + n));
    } else {
      let n = chunk.readUInt16LE(p);
      p += 2;
      if (n & 0x8000) {
        n = ((n & 0x7fff) << 16) | chunk.readUInt16LE(p);
        p += 2;
      }
      out.push(chunk.toString('utf16le', p, p + n * 2));
    }
  }
  return out;
}
