import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bufferFile, SpoolLimitError, type Body, type Spool, type SpooledFile } from '../../ports/spool.js';

/**
 * Spools bodies to files under one directory (standalone: DATA_DIR/tmp/uploads; Firebase: the
 * instance's temporary directory), each created exclusively with mode 0600 in a 0700 directory,
 * written chunk by chunk as the body arrives (awaiting each write, so a fast client waits for the
 * disk instead of filling memory) while SHA-256 is computed. Past the cap, or when the body fails,
 * the partial file is removed. What a crash left behind is removed on first use: only this process
 * spools into the directory (DATA_DIR is locked to one server).
 */
export class TempSpool implements Spool {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    /** Remove leftovers from an earlier run on first use (only when the directory is this process's alone). */
    private readonly sweepOnStart = true,
  ) {}

  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      if (this.sweepOnStart) await rm(this.dir, { recursive: true, force: true });
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async take(body: Body, maxBytes: number): Promise<SpooledFile> {
    if (Buffer.isBuffer(body)) {
      if (body.length > maxBytes) throw new SpoolLimitError(maxBytes);
      return bufferFile(body);
    }
    await this.prepare();
    const path = join(this.dir, `${randomUUID()}.part`);
    const file = await open(path, 'wx+', 0o600); // read back by position while the parser runs
    const hash = createHash('sha256');
    let size = 0;
    let closed = false;
    const remove = async () => {
      if (!closed) {
        closed = true;
        await file.close().catch(() => {});
      }
      await rm(path, { force: true });
    };
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (size > maxBytes) throw new SpoolLimitError(maxBytes);
        hash.update(chunk);
        await file.write(chunk);
      }
    } catch (err) {
      await remove();
      throw err;
    }
    return {
      size,
      sha256: hash.digest('hex'),
      read: async (offset, length) => {
        if (offset < 0 || length < 0 || offset + length > size) {
          throw new RangeError(`read of ${length} bytes at ${offset} is outside the ${size}-byte file`);
        }
        const buffer = Buffer.alloc(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await file.read(buffer, done, length - done, offset + done);
          if (bytesRead === 0) throw new RangeError('the spooled file is shorter than written');
          done += bytesRead;
        }
        return buffer;
      },
      stream: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
      remove,
    };
  }
}
