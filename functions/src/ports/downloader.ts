/**
 * The Downloader port: fetches a file the server was told to register (a release by https URL),
 * through the egress guard (adapters/egress/download.ts). It answers once the remote's headers say
 * 200; the body is then read as a stream, so the caller spools it under its own size cap.
 */
export interface Download {
  /** Content-Length when the remote gave one (a larger file is refused before reading). */
  size: number | undefined;
  body: AsyncIterable<Uint8Array>;
}

export interface Downloader {
  /** Opens an https URL; fails with DownloadError. A body larger than `maxBytes` by its Content-Length is `too_large`. */
  open(url: string, opts: { maxBytes: number }): Promise<Download>;
}

/**
 * Why a download failed, by kind only - never the remote's answer: `refused` (the egress policy: a
 * loopback, private or metadata address), `not_https`, `too_large`, or `failed` (could not connect,
 * TLS, timed out, not a 200, a redirect, cut off).
 */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly kind: 'refused' | 'not_https' | 'too_large' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

/** A host without downloads: every registration by URL fails. */
export const noDownloader: Downloader = {
  open: () => Promise.reject(new DownloadError('failed', 'this host does not download files')),
};
