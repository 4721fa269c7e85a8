import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../src/sim/scheduler.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Scheduler', () => {
  it('fires every entry at its time, in time order, from one timer', () => {
    const fired: [number, number][] = [];
    const s = new Scheduler((id, due) => fired.push([id, due]));
    const due = [500, 100, 300, 150, 900, 0, 700];
    due.forEach((ms, id) => s.schedule(id, 1_000_000 + ms));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(299);
    expect(fired.map(([id]) => id)).toEqual([5, 1, 3]);
    vi.advanceTimersByTime(1000);
    expect(fired.map(([id]) => id)).toEqual([5, 1, 3, 2, 0, 6, 4]);
    expect(fired.map(([, at]) => at)).toEqual([...due].sort((a, b) => a - b).map((ms) => 1_000_000 + ms));
  });

  it('keeps 10,000 devices on one timer, each firing once per round', () => {
    const count = new Map<number, number>();
    const s = new Scheduler((id) => {
      count.set(id, (count.get(id) ?? 0) + 1);
      s.schedule(id, Date.now() + 5000);
    });
    for (let id = 0; id < 10_000; id++) s.schedule(id, Date.now() + ((id * 7919) % 5000));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5000 * 3 - 1);
    expect(vi.getTimerCount()).toBe(1);
    expect([...count.values()].every((n) => n === 3)).toBe(true);
    expect(count.size).toBe(10_000);
  });

  it('rescheduling replaces the earlier time, and cancel drops it', () => {
    const fired: number[] = [];
    const s = new Scheduler((id) => fired.push(id));
    s.schedule(1, Date.now() + 1000);
    s.schedule(1, Date.now() + 50);
    s.schedule(2, Date.now() + 100);
    s.cancel(2);
    vi.advanceTimersByTime(2000);
    expect(fired).toEqual([1]);
  });

  it('fires nothing after stop', () => {
    const fired: number[] = [];
    const s = new Scheduler((id) => fired.push(id));
    s.schedule(1, Date.now() + 10);
    s.stop();
    s.schedule(2, Date.now() + 10);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
