import { request } from 'node:http';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server.js';

/** A raw GET, so the path reaches the server exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = request({ hostname, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the standalone server serves the console', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'mdm-console-'));
    const dir = join(root, 'build');
    await mkdir(join(dir, '_app/immutable/entry'), { recursive: true });
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><title>Fleet console</title><script type="module" src="/_app/immutable/entry/start.a1.js"></script>',
    );
    await writeFile(join(dir, '_app/immutable/entry/start.a1.js'), 'console.log("start")');
    await writeFile(join(root, 'outside.txt'), 'not for the web');
    server = await startServer({
      CONSOLE_DIR: dir,
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'console password 1',
      ADMIN_BCRYPT_ROUNDS: '4',
    });
  });
  afterAll(() => server?.stop());

  it('answers / and client-side routes with the app, assets with their type, the API as before', async () => {
    for (const path of ['/', '/devices/6c3a2b1e-0000-4000-8000-000000000001', '/enrollment']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(await res.text()).toContain('<title>Fleet console</title>');
    }
    const js = await fetch(`${server.url}/_app/immutable/entry/start.a1.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${server.url}/_app/immutable/entry/gone.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');
    const config = await fetch(`${server.url}/api/v1/console-config`);
    expect(await config.json()).toEqual({ liveSource: 'sse' });
    expect((await fetch(`${server.url}/api/v1/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const head = await fetch(server.url + '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('never serves a file outside the build', async () => {
    for (const path of ['/../outside.txt', '/..%2foutside.txt', '/%2e%2e/outside.txt', '/_app/../../outside.txt', '//../outside.txt']) {
      const res = await rawGet(server.url, path);
      expect(res.body, path).not.toContain('not for the web');
    }
  });
});
