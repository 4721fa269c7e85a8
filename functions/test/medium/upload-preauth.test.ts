import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer, type RunningServer } from '../../src/http/node-server.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * Unauthenticated uploads held open: the server decides from the headers alone (route, credentials)
 * and answers 401 at once, without waiting for or buffering the body. Before, each body was read up to
 * its route's limit before authentication (12 such uploads took the server from 94 to 602 MiB).
 */
describe('authentication before the body', () => {
  let t: TestApp;
  let http: RunningServer;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await createTestApp('pglite', { APK_MAX_BYTES: String(64 * 1024 * 1024), UPLOADS_MAX_CONCURRENT: '3' });
    http = createNodeServer(t.app.handle, { logger: t.logs });
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    port = (http.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await http?.close(100);
    await t?.close();
  });

  /** Sends the headers of a 60 MiB upload and `sent` bytes of it, then stalls; resolves with the status line, headers and the ms it took. */
  function slowUpload(headers: string, sent: number): Promise<{ status: string; head: string; ms: number }> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      let data = '';
      socket.on('data', (c: Buffer) => {
        data += c.toString('latin1');
        const line = data.indexOf('\r\n');
        const end = data.indexOf('\r\n\r\n');
        if (line > 0 && end > 0)
          resolve({ status: data.slice(0, line), head: data.slice(0, end).toLowerCase(), ms: performance.now() - started });
      });
      socket.on('error', reject);
      socket.write(
        `POST /api/v1/admin/apk-releases/upload?versionName=1.0&versionCode=1 HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
          `content-type: application/vnd.android.package-archive\r\ncontent-length: ${60 * 1024 * 1024}\r\n${headers}\r\n`,
      );
      socket.write(Buffer.alloc(sent, 0x41));
    });
  }

  it('answers 50 unauthenticated slow uploads 401 at once, and memory stays flat', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => slowUpload(i % 2 ? 'authorization: Bearer forged.token.value\r\n' : '', 16 + i)),
    );
    const grown = process.memoryUsage().rss - before;
    console.log(
      `50 slow unauthenticated uploads: RSS +${(grown / 1024 / 1024).toFixed(1)} MiB, slowest answer ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`,
    );
    for (const a of answers) expect(a.status).toBe('HTTP/1.1 401 Unauthorized');
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(5000);
    expect(grown).toBeLessThan(50 * 1024 * 1024);
  });

  it('reads one upload per admin at a time (UPLOADS_MAX_PER_CALLER): a second one while the first is held answers 429 with Retry-After', async () => {
    const token = await t.loginAs('admin');
    const auth = `authorization: Bearer ${token}\r\n`;
    const first = slowUpload(auth, 1024); // held open, never answered while it stalls
    await new Promise((r) => setTimeout(r, 300));
    const second = await slowUpload(auth, 16);
    expect(second.status).toBe('HTTP/1.1 429 Too Many Requests');
    expect(second.head).toContain('retry-after: 5');
    void first;
  });

  it('reads at most UPLOADS_MAX_CONCURRENT uploads at once across admins: the next one answers 429', async () => {
    // this app allows 3 at once; the held upload of the test above is one of them
    const held = [await t.loginAs('admin'), await t.loginAs('admin')].map((token) =>
      slowUpload(`authorization: Bearer ${token}\r\n`, 1024),
    );
    await new Promise((r) => setTimeout(r, 300));
    const next = await slowUpload(`authorization: Bearer ${await t.loginAs('admin')}\r\n`, 16);
    expect(next.status).toBe('HTTP/1.1 429 Too Many Requests');
    expect(next.head).toContain('retry-after: 5');
    void held;
  });

  it('still takes the 64 KiB JSON limit on other routes', async () => {
    const token = await t.loginAs('admin');
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/admin/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'x'.repeat(70 * 1024) }),
    });
    expect(res.status).toBe(413);
  });
});
