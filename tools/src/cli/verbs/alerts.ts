import type { AlertView, Page } from '../api-types.js';
import { integer, sleep, UsageError } from '../output.js';
import { resolveAlert } from '../resolve.js';
import type { Run } from './verb.js';

const line = (a: AlertView) =>
  `${a.status === 'open' ? 'OPEN    ' : 'RESOLVED'} ${a.id.slice(0, 8)} ${a.kind.padEnd(11)} ${a.device.name}` +
  `${a.device.group ? ` (${a.device.group})` : ''} since ${a.openedAt}` +
  `${a.acknowledgedBy ? `, acknowledged by ${a.acknowledgedBy}` : ''}${a.resolvedAt ? `, resolved ${a.resolvedAt}` : ''}`;

const list = async ({ api }: Run, status?: string) =>
  (await api.get<Page<AlertView>>(`/api/v1/admin/alerts?limit=500${status ? `&status=${status}` : ''}`)).items;

export async function listAlerts(r: Run): Promise<number> {
  if (r.args.length) throw new UsageError(`unknown: alerts ${r.args.join(' ')}`);
  const alerts = await list(r, r.o.all ? undefined : 'open');
  r.print(alerts, () => (alerts.length ? alerts.forEach((a) => r.io.out(line(a))) : r.io.out(r.o.all ? 'no alerts' : 'no open alerts')));
  return 0;
}

/** One id: that alert, as it is now. Several, or --all (every open one): one call, one transaction, one audit entry. */
export async function ackAlerts({ args, o, io, api, print }: Run): Promise<number> {
  if (args.length === 0 && !o.all)
    throw new UsageError('alerts ack takes the ids (or id prefixes) of the alerts to acknowledge, or --all for every open one');
  if (args.length > 0 && o.all) throw new UsageError('alerts ack takes ids or --all, not both');
  const ids: string[] = [];
  for (const typed of args) ids.push(await resolveAlert(api, typed));
  if (ids.length === 1) {
    const a = await api.request<AlertView>('POST', `/api/v1/admin/alerts/${ids[0]}/ack`);
    print(a, () => io.out(`acknowledged ${a.kind} on ${a.device.name} (${a.id.slice(0, 8)})`));
    return 0;
  }
  const done = await api.request<{ acknowledged: number }>('POST', '/api/v1/admin/alerts/ack', o.all ? { filter: {} } : { ids });
  print(done, () => io.out(`acknowledged ${done.acknowledged} alert${done.acknowledged === 1 ? '' : 's'}`));
  return 0;
}

/** Prints alerts as they open and resolve until Ctrl-C (the signal). */
export async function tailAlerts(r: Run): Promise<number> {
  const { o, io } = r;
  const every = o.interval ? integer('--interval', o.interval) : 10;
  const seen = new Map<string, string>();
  const show = (a: AlertView) => io.out(o.json ? JSON.stringify(a) : line(a));
  for (const a of await list(r, 'open')) {
    seen.set(a.id, a.status);
    show(a);
  }
  while (!io.signal?.aborted) {
    await sleep(every * 1000, io.signal);
    if (io.signal?.aborted) break;
    for (const a of (await list(r)).reverse()) {
      if (seen.get(a.id) === a.status) continue;
      const before = seen.has(a.id);
      seen.set(a.id, a.status);
      if (before || a.status !== 'resolved') show(a); // not: resolved before we started watching
    }
  }
  return 0;
}
