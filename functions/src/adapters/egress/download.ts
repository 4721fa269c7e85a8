import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { DownloadError, type Download, type Downloader } from '../../ports/downloader.js';
import type { EgressGuard } from './egress-guard.js';

export interface GuardedDownloaderOptions {
  guard: EgressGuard;
  /** The whole download - connect, answer and body - must finish within this. */
  timeoutMs: number;
  /** Extra trusted certificate authorities (PEM). Tests only: production trusts the system's CAs. */
  ca?: string | undefined;
}

/**
 * Downloads over https only, connecting only where the egress guard allows (the name is resolved and
 * every address checked at connect time; a literal address is checked before connecting, as Node does
 * not look it up). Redirects are never followed - a 3xx is a failure naming the final-URL fix - so a
 * public URL cannot bounce the server to an internal one. Anything but a 200 fails by its status
 * alone: the remote's body is never read or repeated. The timeout covers the body too.
 */
export class GuardedDownloader implements Downloader {
  constructor(private readonly opts: GuardedDownloaderOptions) {}

  open(raw: string, { maxBytes }: { maxBytes: number }): Promise<Download> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return Promise.reject(new DownloadError('failed', 'the url is not a valid URL'));
    }
    if (url.protocol !== 'https:') return Promise.reject(new DownloadError('not_https', 'only https URLs are downloaded'));
    const refused = this.opts.guard.refusal(url.hostname);
    if (refused) return Promise.reject(new DownloadError('refused', refused.message));
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    return new Promise<Download>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          headers: { accept: 'application/vnd.android.package-archive, application/octet-stream, */*' },
          lookup: this.opts.guard.lookup,
          signal,
          agent: false,
          ...(this.opts.ca ? { ca: this.opts.ca } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            res.destroy();
            const why =
              status >= 300 && status < 400
                ? `the server answered ${status} (a redirect); redirects are not followed - give the file's final https URL`
                : `the server answered ${status}, not 200`;
            reject(new DownloadError('failed', why));
            return;
          }
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (Number.isFinite(declared) && declared > maxBytes) {
            res.destroy();
            reject(new DownloadError('too_large', `the file is ${declared} bytes, over the ${maxBytes}-byte limit`));
            return;
          }
          resolve({ size: Number.isFinite(declared) ? declared : undefined, body: body(res, signal) });
        },
      );
      req.on('error', (err) => reject(failure(err, signal)));
      req.end();
    });
  }
}

/** The answer's body; a failure while reading it (cut off, timed out) is a DownloadError too. */
async function* body(res: IncomingMessage, signal: AbortSignal): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Buffer;
  } catch (err) {
    throw failure(err, signal);
  }
  if (!res.complete) throw new DownloadError('failed', 'the download was cut off');
}

/** What went wrong, by kind: never the remote's words. */
function failure(err: unknown, signal: AbortSignal): DownloadError {
  if (err instanceof DownloadError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EGRESS_REFUSED') return new DownloadError('refused', e.message);
  if (signal.aborted) return new DownloadError('failed', 'the download timed out');
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new DownloadError('failed', 'the host name does not resolve');
  if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') {
    return new DownloadError('failed', `could not connect (${e.code})`);
  }
  if (typeof e.code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(e.code)) {
    return new DownloadError('failed', `the TLS connection failed (${e.code})`);
  }
  return new DownloadError('failed', 'the download failed');
}
