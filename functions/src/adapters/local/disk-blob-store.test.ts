import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GcsBlobStore } from '../gcs/gcs-blob-store.js';
import { DiskBlobStore } from './disk-blob-store.js';

/** A destination that keeps a copy of each chunk written to it. */
function collector() {
  const chunks: Buffer[] = [];
  let ended = false;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
    final(done) {
      ended = true;
      done();
    },
  });
  return { sink, chunks, ended: () => ended };
}

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

  it('opens a stored file with its size and writes it whole to a destination in chunks; an absent key is null', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blobs-'));
    const store = new DiskBlobStore(dir);
    const content = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => i % 251));
    await store.put('apk/big.apk', content, 'x');
    const file = await store.open('apk/big.apk');
    expect(file?.size).toBe(1_000_000);
    const { sink, chunks, ended } = collector();
    await file!.pipeTo(sink);
    expect(Buffer.concat(chunks).equals(content)).toBe(true); // copies taken as written: the sender reuses its buffer
    expect(ended()).toBe(true);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(256 * 1024); // never the whole file at once
    expect(await store.open('apk/none.apk')).toBeNull();
    await (await store.open('apk/big.apk'))!.close(); // let go unread (a HEAD answer)
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
        getMetadata: () => Promise.resolve([{ size: '0' }] as [{ size: string }]),
        createReadStream: () => new PassThrough(),
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

  it('opens an object: its size from the metadata, its bytes streamed; a missing object is null', async () => {
    const { Readable } = await import('node:stream');
    let missing = false;
    const bucket = {
      file: () => ({
        createWriteStream: () => {
          throw new Error('not written here');
        },
        save: () => Promise.resolve(),
        download: () => Promise.reject(new Error('not downloaded whole')),
        getMetadata: () =>
          missing
            ? Promise.reject(Object.assign(new Error('No such object'), { code: 404 }))
            : Promise.resolve([{ size: '4' }] as [{ size: string }]),
        createReadStream: () => Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
        delete: () => Promise.resolve(),
      }),
    };
    const store = new GcsBlobStore(() => Promise.resolve(bucket));
    const file = await store.open('apk/x.apk');
    expect(file?.size).toBe(4);
    const { sink, chunks } = collector();
    await file!.pipeTo(sink);
    expect(Buffer.concat(chunks).toString()).toBe('abcd');
    missing = true;
    expect(await store.open('apk/x.apk')).toBeNull();
  });
});
