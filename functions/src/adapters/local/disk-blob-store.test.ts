import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GcsBlobStore } from '../gcs/gcs-blob-store.js';
import { DiskBlobStore } from './disk-blob-store.js';

describe('DiskBlobStore', () => {
  it('writes 0600 files in 0700 directories, reads them back, deletes them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blobs-'));
    const store = new DiskBlobStore(dir);
    await store.put('apk/one.apk', Buffer.from('bytes'), 'application/vnd.android.package-archive');
    expect((await store.get('apk/one.apk'))?.toString()).toBe('bytes');
    expect((await stat(join(dir, 'apk', 'one.apk'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'apk'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'apk'))).toEqual(['one.apk']); // no temporary file left
    expect(await store.get('apk/none.apk')).toBeNull();
    await store.delete('apk/one.apk');
    await store.delete('apk/one.apk');
    expect(await store.get('apk/one.apk')).toBeNull();
  });

  it('streams a body into a 0600 file, and leaves nothing when the stream fails midway', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blobs-'));
    const store = new DiskBlobStore(dir);
    async function* chunks() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(100_000, 65 + i);
    }
    await store.putStream('apk/two.apk', chunks(), 'application/vnd.android.package-archive');
    const back = await store.get('apk/two.apk');
    expect(back?.length).toBe(500_000);
    expect(back?.[499_999]).toBe(69);
    expect((await stat(join(dir, 'apk', 'two.apk'))).mode & 0o777).toBe(0o600);
    async function* broken() {
      yield Buffer.alloc(10, 1);
      throw new Error('the source failed');
    }
    await expect(store.putStream('apk/three.apk', broken(), 'x')).rejects.toThrow('the source failed');
    expect(await readdir(join(dir, 'apk'))).toEqual(['two.apk']);
  });

  it('refuses keys that would leave its directory', async () => {
    const store = new DiskBlobStore(await mkdtemp(join(tmpdir(), 'blobs-')));
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '']) {
      await expect(store.put(key, Buffer.from('x'), 'x'), key).rejects.toThrow(/invalid blob key/);
    }
  });
});

describe('GcsBlobStore', () => {
  it('is built without touching Cloud Storage (the bucket is opened on first use)', () => {
    let opened = 0;
    const store = new GcsBlobStore(async () => {
      opened++;
      throw new Error('no Cloud Storage here');
    });
    expect(store).toBeDefined();
    expect(opened).toBe(0);
  });

  it('streams a body into a write-once object (ifGenerationMatch: 0)', async () => {
    const { PassThrough } = await import('node:stream');
    const written: Buffer[] = [];
    let options: unknown;
    const bucket = {
      file: () => ({
        createWriteStream: (o: unknown) => {
          options = o;
          const sink = new PassThrough();
          sink.on('data', (c: Buffer) => written.push(c));
          return sink;
        },
        save: () => Promise.resolve(),
        download: () => Promise.resolve([Buffer.alloc(0)] as [Buffer]),
        delete: () => Promise.resolve(),
      }),
    };
    const store = new GcsBlobStore(() => Promise.resolve(bucket));
    async function* chunks() {
      yield Buffer.from('ab');
      yield Buffer.from('cd');
    }
    await store.putStream('apk/x.apk', chunks(), 'application/vnd.android.package-archive');
    expect(Buffer.concat(written).toString()).toBe('abcd');
    expect(options).toEqual({
      resumable: false,
      contentType: 'application/vnd.android.package-archive',
      preconditionOpts: { ifGenerationMatch: 0 },
    });
  });
});
