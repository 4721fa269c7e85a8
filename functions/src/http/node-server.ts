import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../ports/logger.js';
import type { HttpRequest, HttpResponse } from '../core/route.js';
import { BODY_LIMIT_BYTES, errorResponse, type Handler } from './router.js';
import { AppError } from '../core/errors.js';
import { secureServerResponse } from './security-headers.js';
import { COMPRESSIBLE, gzipAsync } from './static-files.js';
import { clientAddress, proxyTrust, type ProxyTrust } from './client-address.js';

/** Answers at least this large are gzipped for clients that accept it (a heartbeat answer stays plain). */
const COMPRESS_FROM_BYTES = 1024;

/** Past this a too-large body is cut off rather than drained, so the 413 is still read by polite clients. */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

export interface NodeServerOptions {
  /** Proxies trusted to append to X-Forwarded-For (client-address.ts); default none. */
  proxy?: ProxyTrust;
  /** Former switch: true is one trusted hop (`proxy` wins when both are given). */
  trustProxy?: boolean;
  logger: Logger;
  /** Send Strict-Transport-Security (the public URL is https). */
  hsts?: boolean;
}

export interface RunningServer {
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** Serves the app's handler over node:http: reads the body within the limit and writes the reply. */
export function createNodeServer(handle: Handler, opts: NodeServerOptions): RunningServer {
  let closing = false;
  const proxy = opts.proxy ?? proxyTrust({ hops: opts.trustProxy ? 1 : 0 });
  /** Open event streams: ended on shutdown, or the server would wait on them forever. */
  const streams = new Set<ServerResponse>();
  // Every response, whoever writes it, gets the security headers (security-headers.ts).
  const server = createServer({ ServerResponse: secureServerResponse({ hsts: opts.hsts ?? false }) }, (req, res) => {
    serve(req, res).catch((err: unknown) => unsendable(req, res, err));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  async function serve(req: IncomingMessage, res: ServerResponse) {
    if (closing) res.setHeader('connection', 'close');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const base: Omit<HttpRequest, 'body'> = {
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
      headers: req.headers,
      ip: clientAddress(proxy, req.socket.remoteAddress, req.headers['x-forwarded-for']),
    };
    let response;
    /** An unread upload too large to drain: the connection is cut once the answer is out. */
    let cutAfterAnswer = false;
    /** The body was handed over as a stream: what the handler left unread is dealt with below. */
    let streamed = false;
    try {
      // Authenticate from the headers before reading a byte of the body: a refused request is answered
      // now and its connection closed, so an unauthenticated upload never fills memory.
      const checked = await handle.preflight?.(base);
      const refused = checked && 'status' in checked ? checked : undefined;
      if (refused) {
        if (res.destroyed) return;
        res.setHeader('connection', 'close');
        res.writeHead(refused.status, refused.headers);
        res.end(refused.body, () => req.destroy());
        return;
      }
      const passed = checked && 'bodyLimit' in checked ? checked : undefined;
      const limit = passed?.bodyLimit ?? handle.bodyLimit?.(base.method, base.path) ?? BODY_LIMIT_BYTES;
      if (limit > BODY_LIMIT_BYTES) {
        // An upload: handed over as it arrives, never buffered here. The handler spools it to a
        // temporary file under the size cap and its own concurrency limits (catalog/release-intake.ts);
        // what it leaves unread (a refusal before or during reading) is drained or cut off below.
        // destroyOnReturn: false - a handler that stops reading must not tear down the socket the
        // answer goes out on.
        streamed = true;
        response = await handle({ ...base, body: undefined, bodyStream: req.iterator({ destroyOnReturn: false }) }, passed);
      } else {
        const body = await readBody(req, limit);
        response =
          body === 'too_large'
            ? errorResponse(
                new AppError(413, 'payload_too_large', `request bodies are limited to ${limit} bytes`),
                randomUUID(),
                undefined,
                opts.logger,
              )
            : await handle({ ...base, body }, passed);
        if (body === 'too_large') res.setHeader('connection', 'close');
      }
    } catch (err) {
      response = errorResponse(err, randomUUID(), undefined, opts.logger);
    }
    if (streamed && !req.complete) {
      res.setHeader('connection', 'close');
      cutAfterAnswer = !discardRest(req);
    }
    if (res.destroyed) return void (await response.file?.close());
    if (req.method !== 'HEAD') response = await compressed(req, response);
    if (res.destroyed) return void (await response.file?.close());
    res.writeHead(response.status, response.headers);
    if (response.stream) {
      streams.add(res);
      res.on('close', () => streams.delete(res));
      response.stream({
        write: (chunk) => void res.write(chunk),
        onClose: (listener) => res.on('close', listener),
        end: () => res.end(),
        buffered: () => res.writableLength,
        cut: () => res.destroy(),
      });
      return;
    }
    if (response.file) {
      // a stored file (an APK): sent as it is read, at the pace the client takes it, so a download
      // holds one chunk however large the file; a HEAD sends no body and closes the file unread
      if (req.method === 'HEAD') {
        res.end();
        await response.file.close();
        return;
      }
      await response.file.pipeTo(res).catch((err: unknown) => {
        // the client went away or the storage failed mid-file: the status is sent, so cut the connection
        opts.logger.warn('file download cut short', { path: base.path, err });
        res.destroy();
      });
      return;
    }
    // the router logs and counts each request (router.ts)
    if (cutAfterAnswer) res.end(response.body, () => req.destroy());
    else res.end(response.body);
  }

  /**
   * A response that could not be written (a handler's bug, such as a header value Node refuses): a
   * 500 if nothing is sent yet, else the connection is cut. Never an unhandled rejection, which would
   * end the whole process.
   */
  function unsendable(req: IncomingMessage, res: ServerResponse, err: unknown) {
    opts.logger.error('response could not be sent', { method: req.method, path: (req.url ?? '/').split('?')[0], err });
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    try {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const failed = errorResponse(new AppError(500, 'internal', 'internal error'), randomUUID(), undefined, opts.logger);
      res.writeHead(failed.status, failed.headers);
      res.end(failed.body);
    } catch {
      res.destroy(); // the 500 itself could not be written
    }
  }

  /**
   * Gzips a large JSON or text answer when the client accepts it (the fleet snapshot, device lists,
   * OpenAPI); compressed off the event loop, in libuv's thread pool. Small answers are sent as they are.
   */
  async function compressed(req: IncomingMessage, response: HttpResponse): Promise<HttpResponse> {
    const size = typeof response.body === 'string' ? Buffer.byteLength(response.body) : response.body.length;
    const type = String(response.headers['content-type'] ?? '');
    if (
      response.stream ||
      size < COMPRESS_FROM_BYTES ||
      !COMPRESSIBLE.test(type) ||
      response.headers['content-encoding'] ||
      response.headers['content-length']
    )
      return response;
    const vary = { ...response.headers, vary: 'accept-encoding' };
    if (!/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) return { ...response, headers: vary };
    const body = await gzipAsync(response.body, { level: 6 });
    return { ...response, headers: { ...vary, 'content-encoding': 'gzip' }, body };
  }

  return {
    server,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        server.close(() => {
          clearTimeout(force);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
        for (const stream of streams) stream.end();
      }),
  };
}

/**
 * Reads and drops what is left of a body the handler did not read (an upload refused with 413, 429 or
 * a 400), so a polite client still gets the answer; past DRAIN_LIMIT_BYTES more, the connection is
 * cut. False when the body is declared too large to drain at all: the caller cuts after answering.
 */
function discardRest(req: IncomingMessage): boolean {
  const declared = Number(req.headers['content-length'] ?? NaN);
  let seen = 0;
  if (Number.isFinite(declared) && declared > DRAIN_LIMIT_BYTES * 2) return false;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_LIMIT_BYTES) req.destroy();
  });
  req.on('error', () => {});
  req.resume();
  return true;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined | 'too_large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const drainLimit = Math.max(DRAIN_LIMIT_BYTES, limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = declared > limit;
    if (tooLarge && declared > drainLimit) {
      resolve('too_large');
      req.destroy();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (size > drainLimit) {
        resolve('too_large');
        req.destroy();
        return;
      }
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too_large' : size === 0 ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
