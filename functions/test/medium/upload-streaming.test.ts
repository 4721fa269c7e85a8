import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskBlobStore } from '../../src/adapters/local/disk-blob-store.js';
import { TempSpool } from '../../src/adapters/local/temp-spool.js';
import { createNodeServer, type RunningServer } from '../../src/http/node-server.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { countReleases, leftoverFiles } from '../helpers/catalog.js';

const fixture = (name: string) => readFileSync(new URL(`../../../docs/vectors/apk/${name}.apk`, import.meta.url));

/**
 * Uploads over real HTTP to the node server: the body is streamed into a temporary file under the
 * cap (never buffered), the file is removed in every outcome, and a body over APK_MAX_BYTES is a 413
 * that stores nothing - whether its Content-Length says so up front or it is chunked and only found
 * out while streaming.
 */
describe('streamed uploads', () => {
  let t: TestApp;
  let http: RunningServer;
  let port: number;
  let admin: string;
  let spoolDir: string;
  let blobDir: string;

  beforeAll(async () => {
    spoolDir = join(await mkdtemp(join(tmpdir(), 'upload-spool-')), 'uploads');
    blobDir = await mkdtemp(join(tmpdir(), 'upload-blobs-'));
    t = await createTestApp(
      'pglite',
      { APK_MAX_BYTES: String(1024 * 1024) },
      { spool: new TempSpool(spoolDir), blobs: new DiskBlobStore(blobDir) },
    );
    http = createNodeServer(t.app.handle, { logger: t.logs });
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    port = (http.server.address() as AddressInfo).port;
    admin = await t.loginAs('admin');
  });
  afterAll(async () => {
    await http?.close(100);
    await t?.close();
  });

  /** POSTs chunks (chunked transfer unless a length is given); resolves with the status and JSON answer. */
  function upload(chunks: Buffer[], length?: number): Promise<{ status: number; json: any }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/admin/releases',
          headers: {
            authorization: `Bearer ${admin}`,
            'content-type': 'application/vnd.android.package-archive',
            ...(length !== undefined ? { 'content-length': String(length) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      let i = 0;
      const next = () => {
        while (i < chunks.length) {
          if (!req.write(chunks[i++]!)) return void req.once('drain', next);
        }
        req.end();
      };
      next();
    });
  }

  it('stores a chunked upload streamed in small pieces, and removes its temporary file', async () => {
    const apk = fixture('agent-1');
    const pieces = Array.from({ length: Math.ceil(apk.length / 500) }, (_, i) => apk.subarray(i * 500, i * 500 + 500));
    const res = await upload(pieces);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ packageName: 'dev.fleetmdm.agent', versionCode: 1, sizeBytes: apk.length });
    expect(await leftoverFiles(blobDir)).toHaveLength(1);
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  });

  it('answers 413 to a chunked body past APK_MAX_BYTES found while streaming: nothing stored, the temporary file gone', async () => {
    const before = await countReleases(t.db.db);
    const res = await upload(Array.from({ length: 12 }, () => Buffer.alloc(256 * 1024, 0x41))); // 3 MiB
    expect([res.status, res.json.error.code]).toEqual([413, 'payload_too_large']);
    expect(await countReleases(t.db.db)).toBe(before);
    expect(await leftoverFiles(blobDir)).toHaveLength(1);
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  });

  it('answers 413 at once to a Content-Length over the cap, reading nothing', async () => {
    const res = await upload([Buffer.alloc(2 * 1024 * 1024)], 2 * 1024 * 1024);
    expect([res.status, res.json.error.code]).toEqual([413, 'payload_too_large']);
    expect(await leftoverFiles(spoolDir)).toEqual([]);
  });

  it('refuses a streamed non-APK with 400 after reading it, leaving nothing behind', async () => {
    const res = await upload([Buffer.from('PK\x03\x04'), Buffer.alloc(500_000, 7)]);
    expect([res.status, res.json.error.code]).toEqual([400, 'not_an_apk']);
    expect(await leftoverFiles(spoolDir)).toEqual([]);
    expect(await leftoverFiles(blobDir)).toHaveLength(1);
  });

  it('answers 400 empty_body to an empty upload', async () => {
    const res = await upload([]);
    expect([res.status, res.json.error.code]).toEqual([400, 'empty_body']);
  });
});
