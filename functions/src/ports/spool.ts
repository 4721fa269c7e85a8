import { createHash } from 'node:crypto';

/**
 * Where an uploaded or downloaded file waits while the catalog reads it: a private temporary file
 * (adapters/local/temp-spool.ts), written while its SHA-256 is computed, so a large APK is never held
 * whole in memory. A body a host has already buffered (Firebase's rawBody) is used as it is.
 */

/** Bytes read by position: what the APK parser needs (the ZIP's end, central directory, signing block). */
export interface RandomAccess {
  readonly size: number;
  /** Exactly `length` bytes from `offset` (a RangeError past the end). */
  read(offset: number, length: number): Promise<Buffer>;
}

export interface SpooledFile extends RandomAccess {
  /** Lower-case hex SHA-256 of the whole file, computed while it was written. */
  readonly sha256: string;
  /** The whole file from the start, in chunks (for the BlobStore). */
  stream(): AsyncIterable<Uint8Array>;
  /** Removes the file; safe to call more than once. */
  remove(): Promise<void>;
}

/** A body to spool: a stream being received, or bytes already in memory. */
export type Body = AsyncIterable<Uint8Array> | Buffer;

export interface Spool {
  /**
   * Writes the body to a new private file while hashing it. Past `maxBytes` it stops reading, removes
   * what it wrote and throws `SpoolLimitError`; the caller removes the file it gets back when done.
   */
  take(body: Body, maxBytes: number): Promise<SpooledFile>;
}

export class SpoolLimitError extends Error {
  override name = 'SpoolLimitError';
  constructor(readonly maxBytes: number) {
    super(`the body is larger than ${maxBytes} bytes`);
  }
}

/** Bytes already in memory, read by position. */
export function bufferAccess(bytes: Buffer): RandomAccess {
  return {
    size: bytes.length,
    read: (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > bytes.length) {
        return Promise.reject(new RangeError(`read of ${length} bytes at ${offset} is outside the ${bytes.length}-byte file`));
      }
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/** A body already in memory as a spooled file (no copy, nothing to remove). */
export function bufferFile(bytes: Buffer): SpooledFile {
  return {
    ...bufferAccess(bytes),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    // eslint-disable-next-line @typescript-eslint/require-await
    stream: async function* () {
      yield bytes;
    },
    remove: () => Promise.resolve(),
  };
}
