import { describe, expect, it } from 'vitest';
import { Histogram } from '../../src/sim/histogram.js';
import { Random } from '../../src/sim/random.js';

describe('Histogram', () => {
  it('gives percentiles within 2% of the exact ones', () => {
    const rng = new Random(5);
    const samples = Array.from({ length: 20_000 }, () => rng.range(0.5, 50) ** 1.5);
    const h = new Histogram();
    for (const s of samples) h.record(s);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThan(0.02);
    }
    expect(h.max).toBe(sorted.at(-1));
    expect(h.count).toBe(20_000);
  });

  it('is empty after reset, and handles zero and huge values', () => {
    const h = new Histogram();
    h.record(0);
    h.record(5e9);
    expect(h.quantile(1)).toBe(5e9);
    h.reset();
    expect(h.summary()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });
});

describe('Random', () => {
  it('is reproducible per (seed, stream) and different across them', () => {
    const seq = (seed: number, stream: number) => {
      const r = new Random(seed, stream);
      return Array.from({ length: 5 }, () => r.nextUint32());
    };
    expect(seq(1, 0)).toEqual(seq(1, 0));
    expect(seq(1, 0)).not.toEqual(seq(1, 1));
    expect(seq(1, 0)).not.toEqual(seq(2, 0));
  });

  it('stays within its ranges and looks uniform', () => {
    const r = new Random(11);
    const buckets = new Array<number>(10).fill(0);
    const ints = new Set<number>();
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outOfRange++;
      buckets[Math.floor(x * 10)]!++;
      ints.add(r.int(26, 35));
    }
    expect(outOfRange).toBe(0);
    expect([...ints].sort((a, b) => a - b)).toEqual([26, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});
