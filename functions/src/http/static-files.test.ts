import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from '../core/route.js';
import { loadStaticSite, withStaticSite, type StaticSite } from './static-files.js';

const req = (path: string, headers: Record<string, string> = {}, method = 'GET'): HttpRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  headers,
  body: undefined,
  ip: '127.0.0.1',
});

describe('serving the console build', () => {
  let dir: string;
  let site: StaticSite;
  const bigJs = `export const x = ${JSON.stringify('fleet '.repeat(2000))};`;
  const api = async (): Promise<HttpResponse> => ({ status: 418, headers: {}, body: 'api' });

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'mdm-static-'));
    dir = join(root, 'build');
    await mkdir(join(dir, '_app/immutable/chunks'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'favicon.svg'), '<svg/>');
    await writeFile(join(dir, '_app/immutable/chunks/app.abc123.js'), bigJs);
    await writeFile(join(dir, '_app/version.json'), '{"version":"1"}');
    await writeFile(join(dir, '.env'), 'SECRET=1');
    await writeFile(join(root, 'secret.txt'), 'outside');
    await symlink(join(root, 'secret.txt'), join(dir, 'linked.txt'));
    site = await loadStaticSite(dir);
  });

  it('serves files with their content type; hashed assets are immutable, the rest revalidates', async () => {
    const js = (await site.handler(req('/_app/immutable/chunks/app.abc123.js')))!;
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body.toString()).toBe(bigJs);
    const svg = (await site.handler(req('/favicon.svg')))!;
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
    expect(svg.headers['x-content-type-options']).toBe('nosniff');
    expect((await site.handler(req('/_app/version.json')))!.headers['cache-control']).toBe('no-cache');
  });

  it('falls back to index.html for page paths, and leaves API paths, missing assets and other methods alone', async () => {
    for (const path of ['/', '/devices/0b9f6a0e-8f0e-4c55-9d47-3f1b2a9c1d11', '/settings', '/enrollment/']) {
      const res = (await site.handler(req(path)))!;
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body.toString()).toContain('<title>console</title>');
    }
    for (const path of ['/api/v1/admin/devices', '/api', '/healthz', '/_app/immutable/missing.js', '/missing.png']) {
      expect(await site.handler(req(path)), path).toBeUndefined();
    }
    expect(await site.handler(req('/', {}, 'POST'))).toBeUndefined();
    const handle = withStaticSite(site, api);
    expect((await handle(req('/api/v1/openapi.json'))).status).toBe(418);
    expect((await handle(req('/settings'))).status).toBe(200);
    // the API's per-route body limits (uploads) pass through
    const limited = Object.assign(async () => api(), { bodyLimit: () => 1234 });
    expect(withStaticSite(site, limited).bodyLimit?.('POST', '/api/v1/x')).toBe(1234);
  });

  it('cannot be made to read outside the build: no traversal, no dot files, no symlinks', async () => {
    for (const path of [
      '/../secret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e/secret.txt',
      '/_app/../../secret.txt',
      '/.env',
      '/linked.txt',
      '/index.html%00.js',
    ]) {
      const res = await site.handler(req(path));
      const body = res?.body.toString() ?? '';
      expect(body, path).not.toContain('outside');
      expect(body, path).not.toContain('SECRET');
    }
    expect(await site.handler(req('/%E0%A4%A'))).toBeUndefined();
  });

  it('compresses text with brotli or gzip as accepted, and answers 304 to a matching ETag', async () => {
    const path = '/_app/immutable/chunks/app.abc123.js';
    const br = (await site.handler(req(path, { 'accept-encoding': 'gzip, deflate, br' })))!;
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('accept-encoding');
    expect(Number(br.headers['content-length'])).toBeLessThan(bigJs.length / 10);
    expect(brotliDecompressSync(br.body as Buffer).toString()).toBe(bigJs);
    const gz = (await site.handler(req(path, { 'accept-encoding': 'gzip' })))!;
    expect(gunzipSync(gz.body as Buffer).toString()).toBe(bigJs);
    const again = (await site.handler(req(path, { 'if-none-match': String(br.headers.etag) })))!;
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('says how to build the console when the directory is missing', async () => {
    const missing = await loadStaticSite(join(dir, 'nope'));
    expect(missing.files).toBe(0);
    const res = (await missing.handler(req('/')))!;
    expect(res.status).toBe(503);
    expect(res.body.toString()).toContain('npm run build -w web');
    expect(await missing.handler(req('/api/v1/openapi.json'))).toBeUndefined();
  });
});
