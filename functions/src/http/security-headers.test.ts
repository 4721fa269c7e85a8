import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../adapters/logging/logger.js';
import { createNodeServer } from './node-server.js';
import type { HttpResponse } from '../core/route.js';
import { API_CSP, PAGE_CSP, secureServerResponse, withSecurityHeaders } from './security-headers.js';
import { loadStaticSite, withStaticSite } from './static-files.js';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

function expectStrict(res: Response, csp?: string) {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(['no-referrer', 'same-origin']).toContain(res.headers.get('referrer-policy'));
  expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  if (csp) expect(res.headers.get('content-security-policy')).toBe(csp);
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
}

/**
 * The headers are applied where node:http writes a response, not per route: a handler that sets none,
 * the console's static files, an error before routing, and a raw response that never calls writeHead
 * all get them.
 */
describe('security headers on every response of the node server', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it('fills in a strict set whatever the handler returned', async () => {
    const replies: Record<string, HttpResponse> = {
      '/bare': { status: 200, headers: {}, body: '{}' },
      '/page': { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html>' },
      '/weak': {
        status: 200,
        headers: {
          'content-type': 'text/html',
          'referrer-policy': 'unsafe-url',
          'x-content-type-options': 'sniff',
          'content-security-policy': "script-src 'self'",
        },
        body: '<p>',
      },
    };
    const running = createNodeServer(async (req) => replies[req.path] ?? { status: 404, headers: {}, body: '' }, {
      trustProxy: false,
      logger: memoryLogger(),
      hsts: true,
    });
    const url = await listen(running.server);
    closers.push(() => running.close(100));
    const bare = await fetch(`${url}/bare`);
    expectStrict(bare, API_CSP);
    expect(bare.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expectStrict(await fetch(`${url}/page`), PAGE_CSP);
    const weak = await fetch(`${url}/weak`);
    expectStrict(weak, "script-src 'self'; frame-ancestors 'none'");
    expect(weak.headers.get('referrer-policy')).toBe('no-referrer');
    expectStrict(await fetch(`${url}/missing`));
    // too large: answered by the node adapter itself, before any handler
    expectStrict(await fetch(`${url}/bare`, { method: 'POST', body: 'x'.repeat(70_000), headers: { 'content-type': 'application/json' } }));
  });

  it("covers the console's static pages and assets, and its 'not built' page", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mdm-console-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'app.js'), 'console.log(1)');
    const running = createNodeServer(
      withStaticSite(await loadStaticSite(dir), async () => ({ status: 404, headers: {}, body: '' })),
      {
        trustProxy: false,
        logger: memoryLogger(),
      },
    );
    const url = await listen(running.server);
    closers.push(() => running.close(100));
    for (const path of ['/', '/devices/123', '/app.js']) {
      const res = await fetch(url + path);
      expect(res.status, path).toBe(200);
      expectStrict(res);
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
    const empty = createNodeServer(
      withStaticSite(await loadStaticSite(join(dir, 'nope')), async () => ({ status: 404, headers: {}, body: '' })),
      {
        trustProxy: false,
        logger: memoryLogger(),
      },
    );
    const emptyUrl = await listen(empty.server);
    closers.push(() => empty.close(100));
    expectStrict(await fetch(`${emptyUrl}/`));
  });

  it('applies to a raw response that never calls writeHead', async () => {
    const server = createServer({ ServerResponse: secureServerResponse({ hsts: false }) }, (_req, res) => {
      res.statusCode = 418;
      res.end('teapot');
    });
    const url = await listen(server);
    closers.push(() => new Promise((r) => server.close(r)));
    const res = await fetch(url);
    expect(res.status).toBe(418);
    expectStrict(res, API_CSP);
  });

  it('gives hosts that write a header object the same set (Firebase)', () => {
    const h = withSecurityHeaders({ 'Content-Type': 'text/html', 'Referrer-Policy': 'same-origin' }, { hsts: true });
    expect(h).toMatchObject({
      'content-type': 'text/html',
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': PAGE_CSP,
      'strict-transport-security': expect.stringContaining('max-age'),
    });
  });
});
