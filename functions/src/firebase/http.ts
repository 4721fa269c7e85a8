import type { Request } from 'firebase-functions/v2/https';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { HttpRequest } from '../core/route.js';
import { AppError } from '../core/errors.js';
import { errorResponse } from '../http/router.js';
import { clientAddress, proxyTrust, type ProxyTrust } from '../http/client-address.js';
import { withSecurityHeaders } from '../http/security-headers.js';
import { createLogger } from '../adapters/logging/logger.js';
import { getRuntime } from './runtime.js';
import type { FunctionName } from './plan.js';
import { proxyHops } from './params.js';

const fallbackLogger = createLogger();
let proxy: ProxyTrust | undefined;

/**
 * The same request handler as the standalone server, behind an HTTPS function. The functions
 * framework has already read the body (req.rawBody); our router applies its own 64 KiB limit, JSON
 * rules and errors. `accepts` keeps each function to its share of the API (Hosting rewrites route
 * by path), so a hot function cannot be reached for other work.
 */
export function handleWith(fn: FunctionName, accepts: (path: string) => boolean) {
  return async (req: Request, res: Response): Promise<void> => {
    const url = req.originalUrl || req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let response;
    try {
      if (!accepts(path)) {
        response = errorResponse(new AppError(404, 'not_found', `no route for ${path} here`), randomUUID(), undefined, fallbackLogger);
      } else {
        const { app } = await getRuntime(fn);
        const request: HttpRequest = {
          method: req.method,
          path,
          query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
          headers: req.headers,
          body: req.rawBody && req.rawBody.length ? req.rawBody : undefined,
          // not req.ip: with Express's `trust proxy` that is the left-most entry, which the client writes
          ip: clientAddress((proxy ??= proxyTrust({ hops: proxyHops() })), req.socket?.remoteAddress, req.headers['x-forwarded-for']),
        };
        response = await app.handle(request);
        if (response.stream) {
          // Firebase deployments serve the live view from Firestore, not an event stream.
          response = errorResponse(
            new AppError(404, 'not_available', 'this deployment serves the live view from Firestore'),
            randomUUID(),
            undefined,
            fallbackLogger,
          );
        }
      }
    } catch (err) {
      // the runtime could not start (database unreachable): 503 with Retry-After, like any outage
      response = errorResponse(err, randomUUID(), undefined, fallbackLogger);
    }
    res.status(response.status);
    // Hosting always serves over https; the same headers as the standalone server, on every answer
    for (const [name, value] of Object.entries(withSecurityHeaders(response.headers, { hsts: true }))) res.setHeader(name, value);
    if (response.file) {
      // an APK from Cloud Storage, streamed to the client as it is read
      await response.file.pipeTo(res).catch((err: unknown) => {
        fallbackLogger.warn('file download cut short', { path: req.path, err });
        res.destroy();
      });
      return;
    }
    res.send(response.body);
  };
}
