import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dirname, join } from 'node:path';
import { BLOB_KEY, type BlobFile, type BlobStore } from '../../ports/blob-store.js';

/**
 * Blobs as files under a directory (standalone: DATA_DIR/blobs): each written to a temporary name
 * with mode 0600 and renamed into place, so a reader never sees half a file and a crash leaves only
 * a stray temporary file. Directories are 0700, like the rest of DATA_DIR.
 */
export class DiskBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  private path(key: string): string {
    if (!BLOB_KEY.test(key) || key.split('/').some((p) => p === '.' || p === '..')) throw new Error(`invalid blob key ${key}`);
    return join(this.dir, ...key.split('/'));
  }

  async put(key: string, bytes: Buffer, _contentType?: string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, _contentType?: string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await pipeline(Readable.from(body), createWriteStream(tmp, { mode: 0o600, flags: 'wx' }));
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async open(key: string): Promise<BlobFile | null> {
    const path = this.path(key);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    // size and bytes from one open file: a key is written once, but the handle keeps them consistent anyway
    const { size } = await handle.stat();
    return { size, pipeTo: (dest) => copyTo(handle, dest), close: () => handle.close() };
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}

/** What a download reads at a time, into one buffer it owns. */
const CHUNK = 256 * 1024;

/**
 * Writes the file to `dest` through one buffer, reused once the destination has taken each chunk
 * (the write's callback), then ends `dest` and closes the file. A download allocates nothing per
 * chunk: a stream's fresh buffer per read would leave up to tens of MiB of spent chunks waiting for
 * the garbage collector across concurrent downloads of a large APK.
 */
async function copyTo(handle: FileHandle, dest: Writable): Promise<void> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  try {
    for (let position = 0; ;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      await new Promise<void>((resolve, reject) => {
        dest.write(buffer.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
    }
    await new Promise<void>((resolve) => dest.end(resolve));
  } finally {
    await handle.close();
  }
}
