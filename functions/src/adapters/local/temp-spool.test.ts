import { createHash } from 'node:crypto';
import { mkdtemp, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseApk } from '../../catalog/apk-parser.js';
import { SpoolLimitError } from '../../ports/spool.js';
import { TempSpool } from './temp-spool.js';

const fixture = readFileSync(new URL('../../../../docs/vectors/apk/agent-1.apk', import.meta.url));

async function* chunked(bytes: Buffer, size = 1000) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('TempSpool', () => {
  it('writes a streamed body to a 0600 file in a 0700 directory, hashing it, reads it by position, and removes it', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'spool-')), 'uploads');
    const file = await new TempSpool(dir).take(chunked(fixture), 1024 * 1024);
    expect(file.size).toBe(fixture.length);
    expect(file.sha256).toBe(createHash('sha256').update(fixture).digest('hex'));
    const [name] = await readdir(dir);
    expect((await stat(join(dir, name!))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await file.read(100, 50)).toEqual(fixture.subarray(100, 150));
    await expect(file.read(fixture.length - 10, 11)).rejects.toThrow(RangeError);
    const streamed: Buffer[] = [];
    for await (const c of file.stream()) streamed.push(Buffer.from(c));
    expect(Buffer.concat(streamed)).toEqual(fixture);
    // the parser reads the spooled file by position and agrees with reading the bytes in memory
    expect(await parseApk(file, file.sha256)).toEqual(await parseApk(fixture));
    await file.remove();
    await file.remove();
    expect(await readdir(dir)).toEqual([]);
  });

  it('stops past the cap, removes the partial file and stops reading the body', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'spool-')), 'uploads');
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield Buffer.alloc(64 * 1024);
      }
    }
    await expect(new TempSpool(dir).take(endless(), 1024 * 1024)).rejects.toBeInstanceOf(SpoolLimitError);
    expect(pulled).toBe(17); // 16 chunks fill the cap exactly; the 17th is one too many
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the partial file when the body fails', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'spool-')), 'uploads');
    async function* broken() {
      yield Buffer.alloc(1000);
      throw new Error('client went away');
    }
    await expect(new TempSpool(dir).take(broken(), 1024 * 1024)).rejects.toThrow('client went away');
    expect(await readdir(dir)).toEqual([]);
  });

  it('uses a body already in memory as it is (no file) and still applies the cap', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'spool-')), 'uploads');
    const spool = new TempSpool(dir);
    const file = await spool.take(fixture, 1024 * 1024);
    expect(file.sha256).toBe(createHash('sha256').update(fixture).digest('hex'));
    expect(await file.read(0, 4)).toEqual(fixture.subarray(0, 4));
    await expect(spool.take(fixture, 100)).rejects.toBeInstanceOf(SpoolLimitError);
  });

  it('removes what an earlier run left behind on first use', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'spool-')), 'uploads');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'left-by-a-crash.part'), 'x');
    const file = await new TempSpool(dir).take(chunked(Buffer.from('hello')), 100);
    expect(await readdir(dir)).toHaveLength(1);
    await file.remove();
    expect(await readdir(dir)).toEqual([]);
  });
});
