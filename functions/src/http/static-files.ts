import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { HttpRequest, HttpResponse } from '../core/route.js';
import type { Handler } from './router.js';

/**
 * Serves the built admin console (a SvelteKit static build) next to the API: exact files by path,
 * the SPA's index.html for any other page path, `/api/**` and `/healthz` left to the router. The
 * directory is indexed once at start, so a request can only ever name a file that was in it - there
 * is no path to traverse. Hashed assets (`_app/immutable/`) are cached for a year; everything else
 * revalidates by ETag. Text files are compressed once, on first request, with brotli or gzip.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};
/** Content types worth compressing: the static files' and the API answers' (node-server.ts). */
export const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json)|image\/svg)/;
const IMMUTABLE_PREFIX = '/_app/immutable/';
const FALLBACK = '/index.html';
const MAX_FILES = 5000;

/** Headers of every console response: never framed, never sniffed; the page's own CSP comes from its meta tag. */
const STATIC_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy': "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
  encoded: Map<'br' | 'gzip', Promise<Buffer>>;
}

export const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export interface StaticSite {
  /** Number of files indexed; 0 when the directory does not exist (a page then says how to build it). */
  files: number;
  handler: (req: HttpRequest) => Promise<HttpResponse | undefined>;
}

/** Indexes `dir` (every regular file, dot files skipped) and returns the request handler for it. */
export async function loadStaticSite(dir: string): Promise<StaticSite> {
  const files = new Map<string, StaticFile>();
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (exists) await index(dir, dir, files);

  return {
    files: files.size,
    handler: async (req) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
      if (isApiPath(req.path)) return undefined;
      let path: string;
      try {
        path = decodeURIComponent(req.path);
      } catch {
        return undefined; // the router answers 404
      }
      if (files.size === 0) return notBuilt(dir);
      const file =
        files.get(path) ??
        files.get(path.endsWith('/') ? `${path}index.html` : `${path}.html`) ??
        (isPagePath(path) ? files.get(FALLBACK) : undefined);
      if (!file) return undefined;
      return respond(req, file);
    },
  };
}

/** A handler that serves the console's files and hands everything else to `next`. */
export function withStaticSite(site: StaticSite, next: Handler): Handler {
  // The route table decides: a path the server owns (GET /metrics, /healthz, anything under /api)
  // is never answered with a file or the app's page, whether or not the console is built.
  const owns = next.owns ?? isApiPath;
  const handle: Handler = async (req, checked) => (owns(req.path) ? undefined : await site.handler(req)) ?? next(req, checked);
  if (next.bodyLimit) handle.bodyLimit = next.bodyLimit; // uploads keep their larger limit
  handle.owns = owns;
  if (next.preflight) handle.preflight = next.preflight;
  return handle;
}

/** Without a route table (a bare handler in tests): the API's namespace and the health check. */
const isApiPath = (path: string) => path === '/api' || path.startsWith('/api/') || path === '/healthz';

/** A client-side route: not an asset (no extension) and not under the build's asset folder. */
const isPagePath = (path: string) => !path.startsWith('/_app/') && extname(path) === '';

async function index(root: string, dir: string, files: Map<string, StaticFile>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await index(root, full, files);
    else if (entry.isFile()) {
      if (files.size >= MAX_FILES) throw new Error(`${root} holds more than ${MAX_FILES} files; is CONSOLE_DIR the console build?`);
      const url = '/' + relative(root, full).split(sep).join('/');
      const body = await readFile(full);
      files.set(url, {
        body,
        type: TYPES[extname(entry.name).toLowerCase()] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        cacheControl: url.startsWith(IMMUTABLE_PREFIX) ? 'public, max-age=31536000, immutable' : 'no-cache',
        encoded: new Map(),
      });
    }
  }
}

function header(req: HttpRequest, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v.join(',') : v) ?? '';
}

async function respond(req: HttpRequest, file: StaticFile): Promise<HttpResponse> {
  const headers: Record<string, string> = {
    ...STATIC_HEADERS,
    'content-type': file.type,
    'cache-control': file.cacheControl,
    etag: file.etag,
  };
  const compressible = COMPRESSIBLE.test(file.type) && file.body.length > 1024;
  if (compressible) headers.vary = 'accept-encoding';
  if (
    header(req, 'if-none-match')
      .split(',')
      .some((t) => t.trim() === file.etag)
  ) {
    return { status: 304, headers, body: '' };
  }
  let body = file.body;
  if (compressible) {
    const accepted = header(req, 'accept-encoding');
    const encoding = /\bbr\b/.test(accepted) ? 'br' : /\bgzip\b/.test(accepted) ? 'gzip' : undefined;
    if (encoding) {
      let encoded = file.encoded.get(encoding);
      if (!encoded) {
        encoded =
          encoding === 'br'
            ? brotliAsync(file.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: file.body.length } })
            : gzipAsync(file.body, { level: 9 });
        file.encoded.set(encoding, encoded);
      }
      body = await encoded;
      headers['content-encoding'] = encoding;
    }
  }
  headers['content-length'] = String(body.length);
  return { status: 200, headers, body };
}

function notBuilt(dir: string): HttpResponse {
  const html = `<!doctype html><meta charset="utf-8"><title>Fleet MDM</title>
<h1>The admin console is not built</h1>
<p>The API is running at <code>/api/v1</code>. To serve the console, build it with
<code>npm run build -w web</code> and restart, or point <code>CONSOLE_DIR</code> at a build (looked in <code>${escapeHtml(dir)}</code>).</p>`;
  return {
    status: 503,
    headers: { ...STATIC_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '60' },
    body: html,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
