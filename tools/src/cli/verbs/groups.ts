import { UsageError } from '../output.js';
import type { Run } from './verb.js';

/** `groups hours GROUP [--zone Z --hours DAYS=RANGES ...]`: show or set a group's alert hours (docs/alerts-hours.md). */
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];
type Weekly = Partial<Record<Day, [number, number][]>>;
interface Hours {
  groupId: string;
  hours: { timeZone: string; weekly: Weekly } | null;
  windows: { id: string; startsAt: string; endsAt: string; reason: string }[];
  quietNow: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

function minute(text: string, spec: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[2]) > 59) throw new UsageError(`--hours ${spec}: "${text}" is not a time like 09:00`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** "mon-fri=09:00-21:00,22:00-24:00", "daily=09:00-21:00" or "sun=" (closed) into the days it sets. */
export function parseHoursSpec(spec: string, into: Weekly): void {
  const [days, ranges = ''] = spec.split('=');
  if (!days || !spec.includes('=')) throw new UsageError(`--hours takes DAYS=RANGES, e.g. mon-fri=09:00-21:00 (not "${spec}")`);
  let picked: Day[];
  if (days === 'daily') picked = [...DAYS];
  else {
    const [from, to = from] = days.split('-') as [Day, Day?];
    const a = DAYS.indexOf(from);
    const b = DAYS.indexOf(to as Day);
    if (a < 0 || b < 0 || b < a) throw new UsageError(`--hours ${spec}: days are mon..sun, a span like mon-fri, or daily`);
    picked = DAYS.slice(a, b + 1);
  }
  const parsed = ranges
    .split(',')
    .filter((r) => r !== '')
    .map((r): [number, number] => {
      const [s, e] = r.split('-');
      if (!s || !e) throw new UsageError(`--hours ${spec}: "${r}" is not a range like 09:00-21:00`);
      return [minute(s, spec), minute(e, spec)];
    });
  for (const d of picked) into[d] = parsed;
}

async function groupId({ api }: Run, name: string): Promise<string> {
  const { items } = await api.get<{ items: { id: string; name: string }[] }>('/api/v1/admin/groups');
  const g = items.find((x) => x.name === name || x.id === name);
  if (!g) throw new UsageError(`no group named "${name}"`);
  return g.id;
}

export async function groupHours(r: Run): Promise<number> {
  const { args, o, api, io, print } = r;
  if (args.length !== 1) throw new UsageError('groups hours takes one group name (and --zone with --hours to set them)');
  const id = await groupId(r, args[0]!);
  let h: Hours;
  if (o.zone || o.hours?.length) {
    if (!o.zone || !o.hours?.length) throw new UsageError('setting hours takes --zone and at least one --hours DAYS=RANGES');
    const weekly: Weekly = {};
    for (const spec of o.hours) parseHoursSpec(spec, weekly);
    h = await api.request<Hours>('PUT', `/api/v1/admin/groups/${id}/alert-hours`, { timeZone: o.zone, weekly });
  } else h = await api.get<Hours>(`/api/v1/admin/groups/${id}/alert-hours`);
  print(h, () => {
    if (!h.hours) io.out('expected around the clock (no alert hours)');
    else {
      io.out(`time zone ${h.hours.timeZone}`);
      for (const d of DAYS) io.out(`${d} ${(h.hours.weekly[d] ?? []).map(([s, e]) => `${hhmm(s)}-${hhmm(e)}`).join(', ') || 'closed'}`);
    }
    for (const w of h.windows) io.out(`maintenance ${w.startsAt} - ${w.endsAt}${w.reason ? ` (${w.reason})` : ''}`);
    io.out(h.quietNow ? 'quiet now: no offline or app alerts' : 'open now');
  });
  return 0;
}
