import type { Writable } from 'node:stream';

/**
 * The BlobStore port: where the catalog keeps APK files. Standalone writes them under DATA_DIR
 * (adapters/local/disk-blob-store.ts); Firebase puts them in the project's Cloud Storage bucket
 * (adapters/gcs/gcs-blob-store.ts). Keys are chosen by the caller, never reused, and made of
 * `[A-Za-z0-9._/-]` only.
 */
/**
 * A stored file opened for sending: its size, then `pipeTo` writes it whole to a destination and ends
 * it (at the destination's pace), or `close` lets it go unread. One of the two, once.
 */
export interface BlobFile {
  size: number;
  pipeTo(dest: Writable): Promise<void>;
  close(): Promise<void>;
}

export interface BlobStore {
  /** Stores the bytes under the key, replacing nothing: a key is written once. */
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** Stores a stream under the key (an APK read from its spooled file), never holding it whole; written once. */
  putStream(key: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void>;
  /** The bytes, or null when nothing is stored under the key. */
  get(key: string): Promise<Buffer | null>;
  /** The stored file as a stream with its size (a download sent as it is read), or null when absent. */
  open(key: string): Promise<BlobFile | null>;
  /** Removes the key's bytes; nothing when absent. */
  delete(key: string): Promise<void>;
}

/** A store that keeps nothing: uploads fail, downloads find nothing (hosts without storage). */
export const noBlobStore: BlobStore = {
  put: () => Promise.reject(new Error('no blob store is configured on this host')),
  putStream: () => Promise.reject(new Error('no blob store is configured on this host')),
  get: () => Promise.resolve(null),
  open: () => Promise.resolve(null),
  delete: () => Promise.resolve(),
};

export const BLOB_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
