import { describe, expect, it } from 'vitest';
import { ago, agoMs, bytes, duration, until } from './format.js';

describe('formatting', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  const before = (sec: number) => new Date(now - sec * 1000).toISOString();

  it('says how long ago, coarser as it gets older', () => {
    expect(ago(before(2), now)).toBe('just now');
    expect(ago(before(42), now)).toBe('42 s ago');
    expect(ago(before(125), now)).toBe('2 min ago');
    expect(ago(before(3 * 3600 + 5), now)).toBe('3 h ago');
    expect(ago(before(5 * 86_400), now)).toBe('5 d ago');
    expect(ago(null, now)).toBe('never');
    expect(ago(new Date(now + 5000).toISOString(), now)).toBe('just now');
  });

  it('says a frame age in milliseconds in seconds, not "40916 ms"', () => {
    expect(agoMs(40_916)).toBe('41 s ago');
    expect(agoMs(150_000)).toBe('2 min ago');
  });

  it('says how long until, or expired', () => {
    expect(until(new Date(now + 90 * 60_000).toISOString(), now)).toBe('in 1 h');
    expect(until(new Date(now + 5 * 60_000).toISOString(), now)).toBe('in 5 min');
    expect(until(new Date(now - 1000).toISOString(), now)).toBe('expired');
  });

  it('prints sizes and durations', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1_200_000_000)).toBe('1.2 GB');
    expect(bytes(64_000_000_000)).toBe('64.0 GB');
    expect(bytes(null)).toBe('-');
    expect(duration(86_400 + 7200)).toBe('1 d 2 h');
    expect(duration(3660)).toBe('1 h 1 min');
  });
});
