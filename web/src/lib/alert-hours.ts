/**
 * The console's text form of a group's alert hours: per weekday "09:00-21:00, 22:00-24:00" (empty:
 * closed). The server checks the same rules (functions/src/alerts/alert-hours.ts) and answers with a
 * code; this says what is wrong before sending.
 */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export type Weekly = Partial<Record<Weekday, [number, number][]>>;
export const WEEKDAY_LABELS: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

const pad = (n: number) => String(n).padStart(2, '0');
export const formatMinute = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

/** "09:00-21:00, 22:00-24:00" for a day's ranges. */
export const formatRanges = (ranges: [number, number][] | undefined) =>
  (ranges ?? []).map(([s, e]) => `${formatMinute(s)}-${formatMinute(e)}`).join(', ');

function minuteOf(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min > 0)) return null;
  return h * 60 + min;
}

/** The ranges of one day's text, or the problem with it. */
export function parseRanges(text: string): { ranges: [number, number][] } | { error: string } {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const ranges: [number, number][] = [];
  for (const part of parts) {
    const [a, b, ...rest] = part.split('-');
    const start = a === undefined ? null : minuteOf(a);
    const end = b === undefined ? null : minuteOf(b);
    if (rest.length || start === null || end === null) return { error: `“${part}” is not a range like 09:00-21:00` };
    if (end <= start) return { error: `${part} ends before it starts; give an overnight range as two (22:00-24:00 and 00:00-02:00 the next day)` };
    ranges.push([start, end]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i]![0] < ranges[i - 1]![1]) return { error: `${formatRanges([ranges[i - 1]!])} and ${formatRanges([ranges[i]!])} overlap` };
  return { ranges };
}
