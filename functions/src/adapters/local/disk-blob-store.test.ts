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
});
