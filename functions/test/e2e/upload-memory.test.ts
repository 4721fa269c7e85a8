import { readFile, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryManifest, zip } from '../../../docs/vectors/apk/build-apk.mjs';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { postJson, startServer, type ServerProcess } from '../helpers/server.js';

const MiB = 1024 * 1024;

/** The server process's resident memory, from /proc (kB in the file). */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

/** RSS once it has stopped moving (start-up memory is still being returned a while after listening). */
async function settledRss(pid: number): Promise<number> {
  let last = await rss(pid);
  let steady = 0;
  for (let i = 0; i < 60 && steady < 4; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await rss(pid);
    steady = Math.abs(now - last) < 2 * MiB ? steady + 1 : 0;
    last = now;
  }
  return last;
}

/** Runs `work` while sampling the process's RSS every 10 ms: the RSS before (settled) and the peak during. */
async function rssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ before: number; peak: number; result: T }> {
  const before = await settledRss(pid);
  let peak = before;
  const sampler = setInterval(() => {
    void rss(pid).then(
      (r) => (peak = Math.max(peak, r)),
      () => {},
    );
  }, 10);
  try {
    const result = await work();
    peak = Math.max(peak, await rss(pid));
    return { before, peak, result };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * An authenticated upload of an 80 MiB APK-shaped file to the real standalone server (its own
 * process): the body is streamed to a temporary file and parsed from there by position, so the
 * server's memory grows by far less than the file. Before, the router buffered the whole body. The
 * server runs on PostgreSQL so its own memory is steady. The file is a well-formed ZIP with a manifest and an 80 MiB entry but no v2/v3 signature, so it is read
 * to the end, parsed and refused (unsigned_apk), leaving nothing behind.
 */
describe('an 80 MiB upload to the standalone server', () => {
  let server: ServerProcess;
  let token: string;
  let databaseUrl: string;
  const big = zip([
    { name: 'AndroidManifest.xml', data: binaryManifest({ packageName: 'com.example.big', versionCode: 1, versionName: '1' }) },
    { name: 'assets/big.bin', data: Buffer.alloc(80 * MiB, 0x5a), store: true },
  ]);

  beforeAll(async () => {
    server = await startServer({
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'upload memory password 1',
      ADMIN_BCRYPT_ROUNDS: '4',
      // on PostgreSQL: the embedded database's memory (hundreds of MiB it returns in bursts) would drown the measurement
      DATABASE_URL: (databaseUrl = await clonePostgresDatabase()),
      APK_MAX_BYTES: String(128 * MiB),
    });
    const login = await postJson(`${server.url}/api/v1/admin/login`, { email: 'admin@example.com', password: 'upload memory password 1' });
    token = ((await login.json()) as { token: string }).token;
  });
  afterAll(async () => {
    await server?.stop();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  /** Streams the body in 1 MiB writes (as a client sending a file does); resolves with the status and JSON. */
  function upload(body: Buffer): Promise<{ status: number; json: any }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${server.url}/api/v1/admin/releases`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/vnd.android.package-archive',
            'content-length': String(body.length),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      let at = 0;
      const next = () => {
        while (at < body.length) {
          const chunk = body.subarray(at, at + MiB);
          at += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', next);
        }
        req.end();
      };
      next();
    });
  }

  it('keeps the server RSS growth far below the file size, and leaves no temporary file', async () => {
    // a first upload loads the code paths, and its churn makes the server collect what start-up left
    // (RSS falls by hundreds of MiB at the first large body): the measurement starts after that
    for (let i = 0; i < 2; i++) expect((await upload(big.subarray(0, 16 * MiB))).status).toBe(400);
    const pid = server.proc.pid!;
    const { before, peak, result: res } = await rssDuring(pid, () => upload(big));
    const after = await rss(pid);
    console.log(
      `80 MiB upload: server RSS ${(before / MiB).toFixed(0)} MiB before, peak +${((peak - before) / MiB).toFixed(1)} MiB, after +${((after - before) / MiB).toFixed(1)} MiB`,
    );
    expect([res.status, res.json.error.code]).toEqual([400, 'unsigned_apk']);
    expect(peak - before).toBeLessThan(50 * MiB);
    expect(await readdir(join(server.dataDir, 'tmp', 'uploads'))).toEqual([]);
    expect(await readdir(join(server.dataDir, 'blobs')).catch(() => [])).toEqual([]);
  });

  it('streams an 80 MiB APK download to eight slow clients at once without holding the file in memory', async () => {
    // a release stored as the catalog stores one (a row and a blob under DATA_DIR/blobs), put in place
    // directly: no signed 80 MiB fixture exists, and the download path does not parse the file
    const { randomUUID, createHash } = await import('node:crypto');
    const { mkdir, writeFile } = await import('node:fs/promises');
    const pg = (await import('pg')).default;
    const id = randomUUID();
    const file = Buffer.alloc(80 * MiB, 0x42);
    const sha256 = createHash('sha256').update(file).digest('hex');
    await mkdir(join(server.dataDir, 'blobs', 'apk'), { recursive: true, mode: 0o700 });
    await writeFile(join(server.dataDir, 'blobs', 'apk', `${id}.apk`), file, { mode: 0o600 });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(
      `insert into apk_releases (id, package_name, version_code, version_name, min_sdk, target_sdk, signer_sha256, signature_scheme,
         sha256, size_bytes, blob_key, created_at)
       values ($1, 'com.example.big', 7, '7', 24, 34, $2, 'v2', $3, $4, $5, now())`,
      [id, 'ab'.repeat(32), sha256, file.length, `apk/${id}.apk`],
    );
    await client.end();

    /** Reads the download at about 20 MiB/s (pausing between chunks), returning its size and SHA-256. */
    const slowDownload = () =>
      new Promise<{ status: number; size: number; sha256: string; header: string | undefined }>((resolve, reject) => {
        request(`${server.url}/api/v1/releases/${id}/apk`, (res) => {
          const hash = createHash('sha256');
          let size = 0;
          res.on('data', (c: Buffer) => {
            hash.update(c);
            size += c.length;
            res.pause();
            setTimeout(() => res.resume(), 5);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              size,
              sha256: hash.digest('hex'),
              header: res.headers['x-apk-sha256'] as string | undefined,
            }),
          );
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });

    const { before, peak, result: results } = await rssDuring(server.proc.pid!, () => Promise.all(Array.from({ length: 8 }, slowDownload)));
    console.log(
      `8 x 80 MiB downloads: server RSS ${(before / MiB).toFixed(0)} MiB before, peak +${((peak - before) / MiB).toFixed(1)} MiB`,
    );
    for (const r of results) expect(r).toEqual({ status: 200, size: file.length, sha256, header: sha256 });
    // held whole, eight downloads would be 640 MiB (one copy each)
    expect(peak - before).toBeLessThan(50 * MiB);
  });
});
