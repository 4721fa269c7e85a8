import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BLOB_KEY, type BlobFile, type BlobStore } from '../../ports/blob-store.js';

/** The slice of @google-cloud/storage's Bucket this adapter uses (firebase-admin/storage hands one out). */
export interface GcsBucket {
  file(name: string): {
    save(
      data: Buffer,
      options: { resumable: boolean; contentType: string; preconditionOpts?: { ifGenerationMatch: number } },
    ): Promise<unknown>;
    createWriteStream(options: { resumable: boolean; contentType: string; preconditionOpts?: { ifGenerationMatch: number } }): Writable;
    download(): Promise<[Buffer]>;
    getMetadata(): Promise<[{ size?: string | number }]>;
    createReadStream(): Readable;
    delete(options?: { ignoreNotFound?: boolean }): Promise<unknown>;
  };
}

/**
 * Blobs as objects in a Cloud Storage bucket (Firebase). The bucket is resolved on first use, so a
 * function that never touches the catalog never loads the Storage client. Written once
 * (`ifGenerationMatch: 0`). Tested only for construction here: no Cloud Storage emulator runs offline.
 */
export class GcsBlobStore implements BlobStore {
  private bucket: Promise<GcsBucket> | undefined;

  constructor(
    private readonly openBucket: () => Promise<GcsBucket>,
    private readonly prefix = 'catalog/',
  ) {}

  private file(key: string) {
    if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${key}`);
    this.bucket ??= this.openBucket().catch((err: unknown) => {
      this.bucket = undefined;
      throw err;
    });
    return this.bucket.then((b) => b.file(this.prefix + key));
  }

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    await (await this.file(key)).save(bytes, { resumable: false, contentType, preconditionOpts: { ifGenerationMatch: 0 } });
  }

  /** Streams the object up (one request, not resumable: APKs are tens of MiB), written once. */
  async putStream(key: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    const file = await this.file(key);
    await pipeline(
      Readable.from(body),
      file.createWriteStream({ resumable: false, contentType, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const [bytes] = await (await this.file(key)).download();
      return bytes;
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return null;
      throw err;
    }
  }

  /** The object's size from its metadata; its bytes streamed when sent (validated against the stored hash by the client library). */
  async open(key: string): Promise<BlobFile | null> {
    const file = await this.file(key);
    try {
      const [meta] = await file.getMetadata();
      return { size: Number(meta.size), pipeTo: (dest) => pipeline(file.createReadStream(), dest), close: () => Promise.resolve() };
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await (await this.file(key)).delete({ ignoreNotFound: true });
  }
}
