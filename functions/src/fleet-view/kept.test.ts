import { describe, expect, it } from 'vitest';
import { Kept } from './fleet-view.service.js';

describe('Kept', () => {
  it('answers a fresh value as it is, a stale one at once while reading again, and an old one after reading', async () => {
    let n = 0;
    const kept = new Kept(
      5_000,
      60_000,
      async () => ++n,
      () => undefined,
    );
    expect((await kept.get(0)).value).toBe(1);
    expect((await kept.get(4_999)).value).toBe(1);
    // stale: the old value at once, a new read behind it
    expect((await kept.get(5_000)).value).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    expect((await kept.get(5_001)).value).toBe(2);
    // over staleMs: waits for a new read
    expect((await kept.get(70_000)).value).toBe(3);
  });

  it('keeps an expensive value fresh costFactor times as long as its read took, up to half of staleMs', async () => {
    let clock = 0;
    let n = 0;
    /** A Kept whose reads take `readMs` on the clock they are timed with. */
    const reading = (readMs: number) =>
      new Kept(
        5_000,
        60_000,
        async () => ((clock += readMs), ++n),
        () => undefined,
        { costFactor: 30, elapsed: () => clock },
      );
    const kept = reading(500);
    expect((await kept.get(0)).value).toBe(1);
    expect(kept.freshFor).toBe(15_000);
    // 5 s would have read again; 15 s is still fresh
    expect((await kept.get(14_999)).value).toBe(1);
    expect(n).toBe(1);
    expect((await kept.get(15_000)).value).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(n).toBe(2);
    // fresh for half of staleMs at most: the other half is answered at once while a new read runs
    const slow = reading(10_000);
    await slow.get(0);
    expect(slow.freshFor).toBe(30_000);
    // a cheap read keeps freshMs
    const cheap = reading(10);
    await cheap.get(0);
    expect(cheap.freshFor).toBe(5_000);
  });
});
