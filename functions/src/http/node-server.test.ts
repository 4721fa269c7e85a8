import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../adapters/logging/logger.js';
import type { HttpResponse } from '../core/route.js';
import { createNodeServer, type RunningServer } from './node-server.js';
import type { Handler } from './router.js';

const big = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `Lobby kiosk ${i}`, status: 'online' })) });
const answers: Record<string, HttpResponse> = {
  '/big': { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: big },
  '/small': { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"ok":true}' },
  '/bytes': { status: 200, headers: { 'content-type': 'application/vnd.android.package-archive' }, body: Buffer.alloc(4096, 1) },
  // a handler's bug: a header value Node refuses to send
  '/broken': { status: 200, headers: { 'content-type': 'text/plain', 'x-name': 'lobby\nkiosk' }, body: 'never sent' },
  // and one that fails once its head is out
  '/broken-stream': {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: '',
    stream: () => {
      throw new Error('the stream could not start');
    },
  },
};
const handle: Handler = async (req) => answers[req.path] ?? { status: 404, headers: {}, body: '' };

let server: RunningServer;
let port = 0;
const logger = memoryLogger();
beforeAll(async () => {
  server = createNodeServer(handle, { logger });
  await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => server.close(100));

/** A raw request: node:http does not decompress, so what the server sent is what is seen. */
const get = (path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status?: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });

describe('compressed answers', () => {
  it('gzips a large JSON answer for a client that accepts it', async () => {
    const res = await get('/big', { 'accept-encoding': 'gzip, deflate, br' });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('accept-encoding');
    expect(res.body.length).toBeLessThan(Buffer.byteLength(big) / 4);
    expect(gunzipSync(res.body).toString()).toBe(big);
  });

  it('sends it plain to a client that does not, and small answers and binary files always plain', async () => {
    const plain = await get('/big');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(big);
    for (const path of ['/small', '/bytes']) {
      const res = await get(path, { 'accept-encoding': 'gzip' });
      expect(res.headers['content-encoding'], path).toBeUndefined();
      expect(res.body.length).toBe(Buffer.byteLength(answers[path]!.body));
    }
  });
});

describe('a response that cannot be written', () => {
  it('is answered 500 and logged, and the server keeps serving (no unhandled rejection)', async () => {
    const res = await get('/broken');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: 'internal' } });
    expect(res.body.toString()).not.toContain('never sent');
    const logged = logger.lines.find((l) => l.message === 'response could not be sent');
    expect(logged).toMatchObject({ severity: 'ERROR', path: '/broken' });
    expect((await get('/small')).body.toString()).toBe('{"ok":true}');
  });

  it('has its connection cut when its head is already out, and the server keeps serving', async () => {
    await expect(get('/broken-stream')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect(logger.lines.filter((l) => l.message === 'response could not be sent').map((l) => l.path)).toContain('/broken-stream');
    expect((await get('/small')).body.toString()).toBe('{"ok":true}');
  });
});
