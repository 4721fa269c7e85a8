import { AppError } from '../core/errors.js';

/** How long a refused uploader is told to wait: a typical upload takes seconds. */
const RETRY_AFTER_SEC = 5;

/**
 * How many uploads (and registrations by URL) this instance reads at once, in all and per caller:
 * each holds a temporary file, a disk write and a parse, so a flood of them is refused early with
 * 429 + Retry-After, before a byte of the body is read. Per instance: N Firebase instances take N times
 * the global cap.
 */
export class UploadSlots {
  private total = 0;
  private readonly byCaller = new Map<string, number>();

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxPerCaller: number,
  ) {}

  /** Takes a slot for the caller or throws 429; the returned function gives it back (once). */
  acquire(caller: string): () => void {
    const mine = this.byCaller.get(caller) ?? 0;
    if (this.total >= this.maxConcurrent || mine >= this.maxPerCaller) {
      const why =
        mine >= this.maxPerCaller ? `you already have ${mine} upload${mine === 1 ? '' : 's'} in progress` : 'other uploads are in progress';
      throw new AppError(429, 'uploads_busy', `${why}; retry in ${RETRY_AFTER_SEC} s`, { 'retry-after': String(RETRY_AFTER_SEC) });
    }
    this.total++;
    this.byCaller.set(caller, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.byCaller.set(caller, left);
      else this.byCaller.delete(caller);
    };
  }
}
