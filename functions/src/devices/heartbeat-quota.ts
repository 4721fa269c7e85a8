import type { Clock } from '../core/clock.js';

/**
 * Heartbeats one device may send: a token bucket per device of `perMinute` tokens, refilled evenly
 * over a minute, kept in this process's memory. It costs no database round trip on the hot path; the
 * price is that each server instance (each Firebase function instance) counts on its own, so a device
 * spread over k instances may send up to k times the rate. That bounds a stolen token's flood per
 * instance, which is what protects the database; it is not an exact global quota.
 */
export class HeartbeatQuota {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #perMs: number;
  #sinceSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly perMinute: number,
  ) {
    this.#perMs = perMinute / 60_000;
  }

  /** Takes one heartbeat's token: 0 when allowed, else the seconds until the next one is. */
  take(deviceId: string): number {
    const now = this.clock.now().getTime();
    const bucket = this.#buckets.get(deviceId) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(deviceId, bucket);
    if (++this.#sinceSweep >= 10_000) this.#sweep(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000));
  }

  /** Forgets devices whose bucket has refilled: they would start full anyway. */
  #sweep(now: number): void {
    this.#sinceSweep = 0;
    for (const [id, b] of this.#buckets) if (b.tokens + (now - b.at) * this.#perMs >= this.perMinute) this.#buckets.delete(id);
  }
}
