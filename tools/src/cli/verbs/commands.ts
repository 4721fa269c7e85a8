import { ApiError } from '../api.js';
import type { CommandDetail, CommandStatus, CommandView, CreateCommandBody, CreatedCommands, Page, PendingApproval } from '../api-types.js';
import { COMMAND_TYPES } from '../help.js';
import { ago, integer, sleep, table, UsageError } from '../output.js';
import { resolveCommand, resolveDevice } from '../resolve.js';
import type { Run } from './verb.js';

type Cancelled = { cancelled: number; ids: string[] };

const FINAL: readonly CommandStatus[] = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];
/** Exit code when `command watch` stops waiting before the command ended. */
export const GAVE_UP = 3;
/** Body fields as the operator names them, for the server's validation messages. */
export const COMMAND_FIELDS = { deviceIds: '--device', group: '--group', tag: '--tag', params: '--params' };

export async function sendCommand(r: Run, typeArg: string): Promise<number> {
  const { o, io, api, print } = r;
  const type = COMMAND_TYPES.find((c) => c.type === typeArg.toUpperCase())?.type;
  if (!type) throw new UsageError(`there is no command type ${typeArg}: ${COMMAND_TYPES.map((c) => c.type).join(', ')} (mdm help)`);
  const targets = [o.device?.length, o.group, o.tag, o.all].filter(Boolean).length;
  if (targets !== 1) throw new UsageError('name exactly one target: --device DEVICE (repeatable), --group G, --tag T or --all');
  let params: Record<string, unknown> | undefined;
  if (o.params) {
    try {
      params = JSON.parse(o.params) as Record<string, unknown>;
    } catch {
      throw new UsageError('--params must be a JSON object');
    }
  }
  const target: Pick<CreateCommandBody, 'deviceIds' | 'group' | 'tag' | 'all'> = o.device?.length
    ? { deviceIds: await Promise.all(o.device.map((d) => resolveDevice(api, d))) }
    : o.group
      ? { group: o.group }
      : o.tag
        ? { tag: o.tag }
        : { all: true };
  const body: CreateCommandBody = { type, ...(params === undefined ? {} : { params }), ...target };
  const where = target.deviceIds
    ? 'listed'
    : target.group
      ? `in group "${target.group}"`
      : target.tag
        ? `tagged "${target.tag}"`
        : 'in the fleet';
  let sent: CreatedCommands | PendingApproval | undefined;
  let confirm: CreateCommandBody['confirm'];
  // Beyond one device the server answers 428 with the count it computed; the count is shown (or taken
  // with --yes) and sent back. A selection that changed in between is 428 again with the new count.
  for (let attempt = 0; !sent; attempt++) {
    try {
      sent = await api.request<CreatedCommands | PendingApproval>('POST', '/api/v1/admin/commands', confirm ? { ...body, confirm } : body);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'confirmation_required' && err.confirm) || attempt >= 3) throw err;
      const { count } = err.confirm;
      const what = `${type} goes to ${count} device${count === 1 ? '' : 's'} ${where}${attempt ? ' (the selection changed)' : ''}`;
      if (!o.yes) {
        if (!io.confirm) throw new ApiError(428, err.code, `${what}: run it again with --yes to send it`);
        if (!(await io.confirm(`${what}. Send it?`))) {
          io.err('mdm: not sent');
          return 1;
        }
      }
      confirm = { type, count };
    }
  }
  if ('approval' in sent) {
    const a = sent.approval;
    print(sent, () =>
      io.out(`${type} to ${a.count} devices waits for another admin until ${a.expiresAt}: mdm approvals approve ${a.id.slice(0, 8)}`),
    );
    return 0;
  }
  const res = sent;
  if (!o.watch || !o.json)
    print(res, () => {
      const ids = res.commands.slice(0, 5).map((c) => c.id);
      const more = res.commands.length > 5 ? ', ...' : '';
      io.out(`${type} queued for ${res.count} device(s)${ids.length ? `: ${ids.join(', ')}${more}` : ''}`);
    });
  if (!o.watch) return 0;
  if (res.commands.length === 1) return watch(r, res.commands[0]!.id);
  return watchBatch(r, res.batchId, res.count);
}

function waitOptions({ o }: Run) {
  return {
    timeoutMs: (o.timeout ? integer('--timeout', o.timeout) : 300) * 1000,
    everyMs: (o.interval ? integer('--interval', o.interval) : 2) * 1000,
  };
}

/** Follows one command until it ends: 0 succeeded, 1 failed, rejected or expired, 3 still open at --timeout. */
export async function watch(r: Run, typed: string): Promise<number> {
  const { o, io, api } = r;
  const { timeoutMs, everyMs } = waitOptions(r);
  const id = await resolveCommand(api, typed);
  const started = Date.now();
  const deadline = started + timeoutMs;
  let last = '';
  for (;;) {
    const c = await api.get<CommandDetail>(`/api/v1/admin/commands/${id}`);
    const seen = `${c.status}/${c.dispatches.length}`;
    if (seen !== last && !o.json) {
      const push = c.dispatches.at(-1);
      const how = push && c.status === 'dispatched' ? ` (${push.channel}, attempt ${push.attempt}: ${push.outcome})` : '';
      io.out(`${new Date().toISOString().slice(11, 19)} ${c.type} ${c.status}${how}`);
    }
    last = seen;
    if (FINAL.includes(c.status)) {
      if (o.json) io.out(JSON.stringify(c, null, 2));
      else if (c.output) io.out(`output: ${c.output}`);
      if (c.status === 'succeeded') return 0;
      io.err(`mdm: ${c.type} ${c.status} on device ${c.deviceId}${c.error ? `: ${c.error}` : ''}`);
      return 1;
    }
    if (Date.now() >= deadline || io.signal?.aborted) {
      if (o.json) io.out(JSON.stringify(c, null, 2));
      io.err(
        `mdm: ${c.type} ${id} is still ${c.status} after ${Math.round((Date.now() - started) / 1000)} s (mdm command watch ${id.slice(0, 8)} to wait on)`,
      );
      return GAVE_UP;
    }
    await sleep(Math.min(everyMs, deadline - Date.now()), io.signal); // the last look is at the deadline
  }
}

/** Follows a command sent to many devices: a line of counts whenever they change, until all ended. */
async function watchBatch(r: Run, batchId: string, count: number): Promise<number> {
  const { o, io, api } = r;
  const { timeoutMs, everyMs } = waitOptions(r);
  const started = Date.now();
  const deadline = started + timeoutMs;
  let last = '';
  for (;;) {
    const { items } = await api.all<CommandView>(`/api/v1/admin/commands?batchId=${batchId}`, Infinity);
    const by = new Map<string, number>();
    for (const c of items) by.set(c.status, (by.get(c.status) ?? 0) + 1);
    const line = [...by].map(([s, n]) => `${n} ${s}`).join(', ');
    if (line !== last && !o.json) io.out(`${new Date().toISOString().slice(11, 19)} ${line}`);
    last = line;
    const open = items.filter((c) => !FINAL.includes(c.status)).length;
    const bad = items.filter((c) => c.status !== 'succeeded' && FINAL.includes(c.status)).length;
    if (open === 0 || Date.now() >= deadline || io.signal?.aborted) {
      if (o.json) io.out(JSON.stringify(items, null, 2));
      if (open > 0) io.err(`mdm: ${open} of ${count} still open after ${Math.round((Date.now() - started) / 1000)} s`);
      else if (bad > 0) io.err(`mdm: ${bad} of ${count} did not succeed (mdm commands --status failed)`);
      return open > 0 ? GAVE_UP : bad > 0 ? 1 : 0;
    }
    await sleep(Math.min(everyMs, deadline - Date.now()), io.signal); // the last look is at the deadline
  }
}

export async function listCommands({ o, args, io, api, print }: Run): Promise<number> {
  if (args.length) throw new UsageError(`unknown: commands ${args.join(' ')}`);
  const q = new URLSearchParams({ limit: String(o.limit ? integer('--limit', o.limit) : 50) });
  if (o.device?.length) q.set('deviceId', await resolveDevice(api, o.device[0]!));
  if (o.status) q.set('status', o.status);
  const res = await api.get<Page<CommandView>>(`/api/v1/admin/commands?${q}`);
  print(res.items, () =>
    table(
      io,
      ['ID', 'TYPE', 'STATUS', 'DEVICE', 'SENT'],
      res.items.map((c) => [c.id, c.type, c.status, c.deviceId, ago(c.createdAt)]),
    ),
  );
  return 0;
}

/** Cancels commands that have not started, by id (or prefix), or every one of a batch (--batch). */
export async function cancelCommands({ o, args, io, api, print }: Run): Promise<number> {
  if (o.batch ? args.length : args.length === 0)
    throw new UsageError('command cancel takes command ids (or prefixes), or --batch BATCH_ID');
  const results: Cancelled[] = [];
  if (o.batch) results.push(await api.request<Cancelled>('POST', `/api/v1/admin/command-batches/${encodeURIComponent(o.batch)}/cancel`));
  for (const typed of args) {
    const id = await resolveCommand(api, typed);
    results.push(await api.request<Cancelled>('POST', `/api/v1/admin/commands/${id}/cancel`));
  }
  const ids = results.flatMap((r) => r.ids);
  print({ cancelled: ids.length, ids }, () =>
    io.out(ids.length ? `cancelled ${ids.length}: ${ids.join(', ')}` : 'nothing to cancel (already cancelled)'),
  );
  return 0;
}
