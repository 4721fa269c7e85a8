import { describe, expect, it } from 'vitest';
import { evaluateHours, expectedIntervals, isTimeZone, wallToInstant, weeklyProblem, type GroupHours } from './alert-hours.js';

const STORE = [[9 * 60, 21 * 60]] as [number, number][];
const berlin: GroupHours = {
  timeZone: 'Europe/Berlin',
  weekly: { mon: STORE, tue: STORE, wed: STORE, thu: STORE, fri: STORE, sat: STORE, sun: STORE },
};
const at = (iso: string) => new Date(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('alert hours', () => {
  it('knows IANA zones and refuses made-up ones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });

  it('finds overlapping and reversed ranges', () => {
    expect(
      weeklyProblem({
        mon: [[540, 1260]],
        sat: [
          [0, 60],
          [60, 120],
        ],
      }),
    ).toBeNull();
    expect(
      weeklyProblem({
        mon: [
          [540, 720],
          [700, 1000],
        ],
      }),
    ).toBe('overlapping_ranges');
    expect(weeklyProblem({ tue: [[600, 600]] })).toBe('range_end_before_start');
  });

  it('is open from 09:00 to 21:00 local time in winter (UTC+1) and summer (UTC+2)', () => {
    expect(evaluateHours(berlin, [], at('2026-01-15T07:59:00Z')).quiet).toBe(true);
    expect(evaluateHours(berlin, [], at('2026-01-15T08:00:00Z'))).toEqual({ quiet: false, openSince: at('2026-01-15T08:00:00Z') });
    expect(evaluateHours(berlin, [], at('2026-01-15T19:59:59Z')).quiet).toBe(false);
    expect(evaluateHours(berlin, [], at('2026-01-15T20:00:00Z')).quiet).toBe(true);
    expect(evaluateHours(berlin, [], at('2026-07-15T07:00:00Z')).openSince).toEqual(at('2026-07-15T07:00:00Z'));
    expect(evaluateHours(berlin, [], at('2026-07-15T19:05:00Z')).quiet).toBe(true);
  });

  it('follows the spring-forward day (2026-03-29): the store opens at 09:00 CEST, an hour earlier in UTC than the day before', () => {
    expect(evaluateHours(berlin, [], at('2026-03-28T08:00:00Z')).openSince).toEqual(at('2026-03-28T08:00:00Z'));
    expect(evaluateHours(berlin, [], at('2026-03-29T07:00:00Z')).openSince).toEqual(at('2026-03-29T07:00:00Z'));
    expect(evaluateHours(berlin, [], at('2026-03-29T19:00:00Z')).quiet).toBe(true);
    // a range over the missing hour (01:00-03:00 local) lasts one hour; 02:30 does not exist and moves to 03:30
    const night: GroupHours = { timeZone: 'Europe/Berlin', weekly: { sun: [[60, 180]] } };
    expect(expectedIntervals(night, at('2026-03-29T00:00:00Z').getTime(), at('2026-03-29T03:00:00Z').getTime())).toEqual([
      { start: at('2026-03-29T00:00:00Z').getTime(), end: at('2026-03-29T01:00:00Z').getTime() },
    ]);
    expect(iso(wallToInstant('Europe/Berlin', Date.UTC(2026, 2, 29, 2, 30)))).toBe('2026-03-29T01:30:00.000Z');
  });

  it('follows the fall-back day (2026-10-25): a whole-day range lasts 25 hours; 02:30 happens twice and means the first', () => {
    const allSunday: GroupHours = { timeZone: 'Europe/Berlin', weekly: { sun: [[0, 1440]] } };
    const [sunday] = expectedIntervals(allSunday, at('2026-10-25T06:00:00Z').getTime(), at('2026-10-25T07:00:00Z').getTime());
    expect(iso(sunday!.start)).toBe('2026-10-24T22:00:00.000Z');
    expect(iso(sunday!.end)).toBe('2026-10-25T23:00:00.000Z');
    expect(iso(wallToInstant('Europe/Berlin', Date.UTC(2026, 9, 25, 2, 30)))).toBe('2026-10-25T00:30:00.000Z');
    expect(evaluateHours(berlin, [], at('2026-10-25T08:00:00Z')).openSince).toEqual(at('2026-10-25T08:00:00Z'));
    expect(evaluateHours(berlin, [], at('2026-10-24T07:30:00Z')).openSince).toEqual(at('2026-10-24T07:00:00Z'));
  });

  it('joins an overnight pair of ranges into one open period', () => {
    const bar: GroupHours = { timeZone: 'UTC', weekly: { fri: [[18 * 60, 1440]], sat: [[0, 2 * 60]] } };
    // 2026-01-16 is a Friday
    expect(evaluateHours(bar, [], at('2026-01-17T01:00:00Z'))).toEqual({ quiet: false, openSince: at('2026-01-16T18:00:00Z') });
    expect(evaluateHours(bar, [], at('2026-01-17T02:00:00Z')).quiet).toBe(true);
  });

  it('is quiet inside a maintenance window and opens again at its end; around the clock without hours', () => {
    const win = { start: at('2026-01-15T10:00:00Z').getTime(), end: at('2026-01-15T11:00:00Z').getTime() };
    expect(evaluateHours(null, [], at('2026-01-15T10:30:00Z'))).toEqual({ quiet: false, openSince: null });
    expect(evaluateHours(null, [win], at('2026-01-15T10:30:00Z')).quiet).toBe(true);
    expect(evaluateHours(null, [win], at('2026-01-15T11:05:00Z'))).toEqual({ quiet: false, openSince: at('2026-01-15T11:00:00Z') });
    expect(evaluateHours(berlin, [win], at('2026-01-15T10:30:00Z')).quiet).toBe(true);
  });
});
