import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader } from 'node:http';

/**
 * Security headers for every response the server writes - API answers, the console's pages and
 * assets, errors written before routing - applied where the response is written, not per route, so a
 * new route or a new kind of response cannot forget them. A response may bring its own
 * Content-Security-Policy (the console's pages do); it still gets `frame-ancestors 'none'` when it
 * has none, and everything else is filled in where missing:
 *
 * - `X-Content-Type-Options: nosniff` always (a different value is replaced);
 * - `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: nothing is framed (clickjacking);
 * - `Referrer-Policy`: `no-referrer` unless the response chose a strict one;
 * - CSP: `default-src 'none'` for anything that is not a page - an API answer loads nothing - and a
 *   self-only policy for an HTML page that did not bring one;
 * - `Cross-Origin-Opener-Policy` / `Cross-Origin-Resource-Policy: same-origin`;
 * - `Strict-Transport-Security` when the server is reached over https (PUBLIC_URL).
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
const STRICT_REFERRER = new Set(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin']);
const HSTS = 'max-age=31536000; includeSubDomains';

export interface SecurityOptions {
  /** Send Strict-Transport-Security (only when the public URL is https). */
  hsts: boolean;
}

type HeaderValue = string | number | readonly string[] | undefined;

/** Puts the headers into `get`/`set` form: works on a plain object and on a ServerResponse alike. */
export function applySecurityHeaders(
  get: (name: string) => HeaderValue,
  set: (name: string, value: string) => void,
  options: SecurityOptions,
): void {
  set('x-content-type-options', 'nosniff');
  if (String(get('x-frame-options') ?? '').toUpperCase() !== 'DENY') set('x-frame-options', 'DENY');
  const referrer = String(get('referrer-policy') ?? '').toLowerCase();
  if (!STRICT_REFERRER.has(referrer)) set('referrer-policy', 'no-referrer');
  const csp = get('content-security-policy');
  if (csp === undefined || String(csp).trim() === '') {
    set('content-security-policy', /^text\/html\b/i.test(String(get('content-type') ?? '')) ? PAGE_CSP : API_CSP);
  } else if (!/(^|;)\s*frame-ancestors\s/i.test(String(csp))) {
    set('content-security-policy', `${String(csp).replace(/;?\s*$/, '')}; frame-ancestors 'none'`);
  }
  if (get('cross-origin-opener-policy') === undefined) set('cross-origin-opener-policy', 'same-origin');
  if (get('cross-origin-resource-policy') === undefined) set('cross-origin-resource-policy', 'same-origin');
  if (options.hsts && get('strict-transport-security') === undefined) set('strict-transport-security', HSTS);
}

/** A copy of a header object with the security headers applied (hosts that write a plain object). */
export function withSecurityHeaders<T extends Record<string, string | string[]>>(headers: T, options: SecurityOptions): T {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  applySecurityHeaders(
    (n) => out[n],
    (n, v) => (out[n] = v),
    options,
  );
  return out as T;
}

/**
 * The ServerResponse class of the node:http server: every way a response can start (writeHead with or
 * without headers, or a write/end that sends them implicitly) passes through writeHead, so the
 * headers are applied whatever handler - ours, the console's static files, an error path - wrote it.
 */
export function secureServerResponse(options: SecurityOptions): typeof ServerResponse<IncomingMessage> {
  return class SecureServerResponse extends ServerResponse<IncomingMessage> {
    override writeHead(statusCode: number, ...rest: unknown[]): this {
      // writeHead(status, [message], [headers]): fold an object of headers into setHeader first, so the
      // final set can be checked in one place; a raw header array is passed through as given.
      const last = rest.at(-1);
      if (last && typeof last === 'object' && !Array.isArray(last)) {
        for (const [name, value] of Object.entries(last as Record<string, OutgoingHttpHeader>)) {
          if (value !== undefined) this.setHeader(name, value);
        }
        rest = rest.slice(0, -1);
      }
      if (!this.headersSent) {
        applySecurityHeaders(
          (n) => this.getHeader(n),
          (n, v) => this.setHeader(n, v),
          options,
        );
      }
      return (super.writeHead as (code: number, ...args: unknown[]) => this)(statusCode, ...rest);
    }
  };
}
