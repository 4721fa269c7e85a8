/**
 * Alert hours: when a group's devices are expected to run (weekly minute ranges of the local day in the
 * group's IANA time zone) minus its maintenance windows. Pure functions; the sweep evaluates them for
 * the few groups that have hours or windows and hands the result to its one statement.
 *
 * Local times that do not exist (the spring-forward gap) move forward by the gap; local times that
 * happen twice (fall-back) take the earlier instant - what Temporal calls "compatible".
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** Per weekday, minute ranges [start, end) of the local day: 0 <= start < end <= 1440. A day left out is closed. */
export type Weekly = Partial<Record<Weekday, [number, number][]>>;
export interface GroupHours {
  timeZone: string;
  weekly: Weekly;
}
export interface TimeRange {
  start: number;
  end: number;
}

/** How far back the sweep looks for the start of the current open period; older starts change nothing. */
export const HORIZON_MS = 8 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;
const JS_DAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const formats = new Map<string, Intl.DateTimeFormat>();
function formatOf(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** True for a time zone name this runtime knows (IANA names and their aliases, e.g. UTC). */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    formatOf(name);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `ms` in the zone, as milliseconds of a UTC date with the same fields. */
function wallOf(timeZone: string, ms: number): number {
  const p: Record<string, number> = {};
  for (const part of formatOf(timeZone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((ms % 1000) + 1000) % 1000);
}

const offsetAt = (timeZone: string, ms: number) => wallOf(timeZone, ms) - ms;

/** The instant of a local wall time (ms of a UTC date carrying the local fields). */
export function wallToInstant(timeZone: string, wall: number): number {
  const before = wall - offsetAt(timeZone, wall - DAY_MS);
  const after = wall - offsetAt(timeZone, wall + DAY_MS);
  const valid = [before, after].filter((c) => wallOf(timeZone, c) === wall).sort((a, b) => a - b);
  // none valid: the wall time falls in a gap; the offset before the gap moves it forward past it
  return valid[0] ?? before;
}

/** The problem with a week of ranges, as an error code, or null when it is fine. */
export function weeklyProblem(weekly: Weekly): 'range_end_before_start' | 'overlapping_ranges' | null {
  for (const day of WEEKDAYS) {
    const ranges = [...(weekly[day] ?? [])].sort((a, b) => a[0] - b[0]);
    for (const [s, e] of ranges) if (e <= s) return 'range_end_before_start';
    for (let i = 1; i < ranges.length; i++) if (ranges[i]![0] < ranges[i - 1]![1]) return 'overlapping_ranges';
  }
  return null;
}

/** The expected-hours intervals (instants) that meet [from, to], merged where they touch (an overnight pair). */
export function expectedIntervals(hours: GroupHours, from: number, to: number): TimeRange[] {
  const out: TimeRange[] = [];
  const firstWall = wallOf(hours.timeZone, from);
  const lastWall = wallOf(hours.timeZone, to);
  for (let day = Math.floor(firstWall / DAY_MS) - 1; day <= Math.floor(lastWall / DAY_MS) + 1; day++) {
    const midnight = day * DAY_MS;
    const weekday = JS_DAYS[new Date(midnight).getUTCDay()]!;
    for (const [s, e] of hours.weekly[weekday] ?? []) {
      const start = wallToInstant(hours.timeZone, midnight + s * 60_000);
      const end = wallToInstant(hours.timeZone, midnight + e * 60_000);
      if (end > from && start < to && end > start) out.push({ start, end });
    }
  }
  return merge(out);
}

function merge(ranges: TimeRange[]): TimeRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: TimeRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

function subtract(ranges: TimeRange[], holes: TimeRange[]): TimeRange[] {
  let out = ranges;
  for (const h of holes) {
    out = out.flatMap((r) => {
      if (h.end <= r.start || h.start >= r.end) return [r];
      const parts: TimeRange[] = [];
      if (h.start > r.start) parts.push({ start: r.start, end: h.start });
      if (h.end < r.end) parts.push({ start: h.end, end: r.end });
      return parts;
    });
  }
  return out;
}

export interface HoursVerdict {
  /** Outside the expected hours or inside a maintenance window: offline and app alerts are not raised. */
  quiet: boolean;
  /**
   * When the current open period began (the last opening or the end of a window), or null when quiet
   * or open for longer than the horizon. The offline clock of the group's devices starts no earlier.
   */
  openSince: Date | null;
}

/** Whether a group is quiet at `now`, and since when it has been open. `hours` null: expected around the clock. */
export function evaluateHours(hours: GroupHours | null, windows: TimeRange[], now: Date): HoursVerdict {
  const ms = now.getTime();
  const from = ms - HORIZON_MS;
  const expected = hours ? expectedIntervals(hours, from, ms + 60_000) : [{ start: from - 1, end: Infinity }];
  const open = subtract(expected, merge(windows));
  const current = open.find((r) => r.start <= ms && ms < r.end);
  if (!current) return { quiet: true, openSince: null };
  return { quiet: false, openSince: current.start <= from ? null : new Date(current.start) };
}
