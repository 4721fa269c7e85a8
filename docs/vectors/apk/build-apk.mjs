// Builds tiny unsigned APKs: a ZIP holding a binary AndroidManifest.xml (Android's compiled XML, as
// aapt writes it) and one small resource. make-fixtures.sh signs them with Debian's apksigner; the
// tests also use it directly for unsigned and malformed inputs. Node built-ins only.
import { crc32, deflateRawSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const ANDROID_NS = 'http://schemas.android.com/apk/res/android';
const ATTR_IDS = { versionCode: 0x0101021b, versionName: 0x0101021c, minSdkVersion: 0x0101020c, targetSdkVersion: 0x01010270 };

/** A chunk: type, header size, total size, then header fields and body. */
function chunk(type, header, body) {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(8 + header.length, 2);
  h.writeUInt32LE(8 + header.length + body.length, 4);
  return Buffer.concat([h, header, body]);
}

const u32 = (...values) => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
};

function stringPool(strings) {
  const data = [];
  const offsets = [];
  let at = 0;
  for (const s of strings) {
    offsets.push(at);
    const b = Buffer.alloc(2 + s.length * 2 + 2);
    b.writeUInt16LE(s.length, 0);
    b.write(s, 2, 'utf16le');
    data.push(b);
    at += b.length;
  }
  let body = Buffer.concat([u32(...offsets), ...data]);
  if (body.length % 4) body = Buffer.concat([body, Buffer.alloc(4 - (body.length % 4))]);
  // stringCount, styleCount, flags (UTF-16), stringsStart, stylesStart
  return chunk(0x0001, u32(strings.length, 0, 0, 28 + offsets.length * 4, 0), body);
}

/** A node: line number and comment in the header, then the element's extension. */
const node = (type, ext) => chunk(type, u32(1, 0xffffffff), ext);

/**
 * The binary manifest: <manifest package versionCode versionName><uses-sdk min target/></manifest>.
 * Attribute names that are android: attributes come first in the string pool, matched by the resource map.
 */
export function binaryManifest({ packageName, versionCode, versionName, minSdk = 24, targetSdk = 34 }) {
  const strings = [
    'versionCode',
    'versionName',
    'minSdkVersion',
    'targetSdkVersion',
    'android',
    ANDROID_NS,
    'package',
    'manifest',
    'uses-sdk',
  ];
  if (versionName !== undefined) strings.push(versionName);
  strings.push(packageName);
  const s = (x) => strings.indexOf(x);
  const attr = (ns, name, type, data, raw = 0xffffffff) => {
    const b = Buffer.alloc(20);
    b.writeUInt32LE(ns >>> 0, 0);
    b.writeUInt32LE(name, 4);
    b.writeUInt32LE(raw >>> 0, 8);
    b.writeUInt16LE(8, 12);
    b.writeUInt8(0, 14);
    b.writeUInt8(type, 15);
    b.writeUInt32LE(data >>> 0, 16);
    return b;
  };
  const element = (name, attrs) => {
    const head = Buffer.alloc(20);
    head.writeUInt32LE(0xffffffff, 0);
    head.writeUInt32LE(s(name), 4);
    head.writeUInt16LE(20, 8);
    head.writeUInt16LE(20, 10);
    head.writeUInt16LE(attrs.length, 12);
    return node(0x0102, Buffer.concat([head, ...attrs]));
  };
  const end = (name) => node(0x0103, u32(0xffffffff, s(name)));
  const ns = s(ANDROID_NS);
  const manifestAttrs = [attr(ns, s('versionCode'), 0x10, versionCode)];
  if (versionName !== undefined) manifestAttrs.push(attr(ns, s('versionName'), 0x03, s(versionName), s(versionName)));
  manifestAttrs.push(attr(0xffffffff, s('package'), 0x03, s(packageName), s(packageName)));
  const body = Buffer.concat([
    stringPool(strings),
    chunk(0x0180, Buffer.alloc(0), u32(...Object.values(ATTR_IDS))),
    node(0x0100, u32(s('android'), ns)),
    element('manifest', manifestAttrs),
    element('uses-sdk', [attr(ns, s('minSdkVersion'), 0x10, minSdk), attr(ns, s('targetSdkVersion'), 0x10, targetSdk)]),
    end('uses-sdk'),
    end('manifest'),
    node(0x0101, u32(s('android'), ns)),
  ]);
  return chunk(0x0003, Buffer.alloc(0), body);
}

/** A ZIP archive of the entries (deflated unless `store`), as a plain zip tool writes it. */
export function zip(entries) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const { name, data, store = false } of entries) {
    const packed = store ? data : deflateRawSync(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const common = Buffer.alloc(26);
    common.writeUInt16LE(20, 0); // version needed
    common.writeUInt16LE(0, 2); // flags
    common.writeUInt16LE(store ? 0 : 8, 4);
    common.writeUInt32LE(0x00210000, 6); // 1980-01-01 00:00 (dos time, date)
    common.writeUInt32LE(crc32(data), 10);
    common.writeUInt32LE(packed.length, 14);
    common.writeUInt32LE(data.length, 18);
    common.writeUInt16LE(nameBytes.length, 22);
    common.writeUInt16LE(0, 24);
    const local = Buffer.concat([u32(0x04034b50), common, nameBytes, packed]);
    const cd = Buffer.concat([u32(0x02014b50), Buffer.from([20, 0]), common, Buffer.alloc(10), u32(offset), nameBytes]);
    locals.push(local);
    central.push(cd);
    offset += local.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** An unsigned APK with the given manifest values. */
export function unsignedApk(manifest) {
  return zip([
    { name: 'AndroidManifest.xml', data: binaryManifest(manifest) },
    { name: 'res/raw/about.txt', data: Buffer.from(`${manifest.packageName} ${manifest.versionCode}\n`) },
  ]);
}

// node build-apk.mjs <out.apk> <package> <versionCode> <versionName>
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [out, packageName, code, versionName] = process.argv.slice(2);
  writeFileSync(out, unsignedApk({ packageName, versionCode: Number(code), versionName }));
}
