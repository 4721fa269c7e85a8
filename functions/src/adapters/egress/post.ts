import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { EgressGuard } from './egress-guard.js';

export interface PostAnswer {
  status: number;
  headers: { get(name: string): string | null };
  /** The answer's body, cut at `maxBodyBytes`. */
  text: string;
}

/** Most of an answer's body read: enough for an error's JSON (Discord's retry_after), never a whole page. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * POSTs a body and reads the answer, connecting only where the guard allows (the name is resolved and
 * checked at connect time; a literal address is checked here, as Node does not look it up). Redirects
 * are never followed: a 3xx is returned as it is. Fails with TimeoutError after `timeoutMs` overall.
 */
export function guardedPost(
  url: string,
  body: string,
  opts: { guard: EgressGuard; timeoutMs: number; headers: Record<string, string> },
): Promise<PostAnswer> {
  const target = new URL(url);
  const refused = opts.guard.refusal(target.hostname);
  if (refused) return Promise.reject(refused);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostAnswer>((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: opts.guard.lookup,
        signal: AbortSignal.timeout(opts.timeoutMs),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_BODY_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
          const headers = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            headers: {
              get: (name) => {
                const v = headers[name.toLowerCase()];
                return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
              },
            },
            text,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err: Error & { name: string }) => {
      // the overall timeout aborts the request: say so the way fetch does
      if (err.name === 'AbortError') reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
      else reject(err);
    });
    req.end(body);
  });
}
