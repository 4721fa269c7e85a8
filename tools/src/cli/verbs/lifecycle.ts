import { ApiError } from '../api.js';
import type { BulkResult, DeviceView, MoveDevicesBody, ReplaceResult, RetireResult, TagDevicesBody } from '../api-types.js';
import { UsageError } from '../output.js';
import { resolveDevice } from '../resolve.js';
import type { Run } from './verb.js';

/**
 * A device's lifecycle from the terminal: retire, delete, replace, and bulk moves and tag edits.
 * Each asks first (or takes --yes); the bulk edits first ask the server how many devices would
 * change (a dry run), so the question names the blast radius.
 */

/** Body fields as the operator names them, for the server's validation messages. */
export const BULK_FIELDS = { group: '--group', add: '--add', remove: '--remove', deviceIds: 'the devices' };

/** --yes, or a yes at the prompt; without a prompt (a script) the operator must say --yes. */
async function confirmed({ o, io }: Run, question: string): Promise<boolean> {
  if (o.yes) return true;
  if (!io.confirm) throw new ApiError(428, 'confirmation_required', `${question.replace(/\?$/, '')}: run it again with --yes`);
  if (await io.confirm(question)) return true;
  io.err('mdm: nothing changed');
  return false;
}

const oneDevice = (r: Run, verb: string) => {
  if (r.args.length !== 1) throw new UsageError(`device ${verb} takes one device: its id, a prefix of it, its name or serial`);
  return r.args[0]!;
};

export async function retireDevice(r: Run): Promise<number> {
  const { o, io, api, print } = r;
  const release = Boolean(o['release-owner']);
  if (o.wipe && release) throw new UsageError('device retire takes --wipe or --release-owner, not both');
  const id = await resolveDevice(api, oneDevice(r, 'retire'));
  const d = await api.get<DeviceView>(`/api/v1/admin/devices/${id}`);
  const how = o.wipe
    ? 'send it a signed WIPE (factory reset), then retire it'
    : release
      ? 'send it a signed RELEASE_OWNER (the agent gives up Device Owner for good; the device keeps its data), then retire it'
      : 'retire it now: its credentials stop working';
  if (!(await confirmed(r, `${d.displayName} (${id}): ${how}?`))) return 1;
  const body = release ? { releaseOwner: true } : { wipe: Boolean(o.wipe) };
  const res = await api.request<RetireResult>('POST', `/api/v1/admin/devices/${id}/retire`, body);
  const [type, cid] = res.releaseOwnerCommandId ? ['RELEASE_OWNER', res.releaseOwnerCommandId] : ['WIPE', res.wipeCommandId];
  print(res, () =>
    io.out(
      res.lifecycle === 'retiring'
        ? `${d.displayName} is retiring: ${type} ${cid} is on its way (mdm command watch ${cid?.slice(0, 8)})`
        : `retired ${d.displayName} (${id}); ${res.commandsCancelled} open command(s) dropped, ${res.alertsResolved} alert(s) resolved`,
    ),
  );
  return 0;
}

export async function deleteDevice(r: Run): Promise<number> {
  const { io, api } = r;
  const id = await resolveDevice(api, oneDevice(r, 'delete'), { retired: true });
  const d = await api.get<DeviceView>(`/api/v1/admin/devices/${id}`);
  if (d.status !== 'retired')
    throw new ApiError(409, 'device_not_retired', `${d.displayName} is ${d.status}: retire it first (mdm device retire)`);
  if (!(await confirmed(r, `delete ${d.displayName} (${id}) with its heartbeats, commands and alerts for good?`))) return 1;
  await api.request('DELETE', `/api/v1/admin/devices/${id}`);
  io.out(`deleted ${d.displayName} (${id}); the audit log keeps its entries`);
  return 0;
}

export async function replaceDevice(r: Run): Promise<number> {
  const { io, api, print } = r;
  if (r.args.length !== 2)
    throw new UsageError('device replace takes two devices: OLD NEW (NEW takes over the name, group and tags of OLD)');
  const oldId = await resolveDevice(api, r.args[0]!, { retired: true });
  const newId = await resolveDevice(api, r.args[1]!);
  const [old, nu] = await Promise.all([
    api.get<DeviceView>(`/api/v1/admin/devices/${oldId}`),
    api.get<DeviceView>(`/api/v1/admin/devices/${newId}`),
  ]);
  if (
    !(await confirmed(
      r,
      `${nu.displayName} (${newId}) takes over the name, group and tags of ${old.displayName} (${oldId}), which is retired?`,
    ))
  )
    return 1;
  const res = await api.request<ReplaceResult>('POST', `/api/v1/admin/devices/${oldId}/replace`, { newDeviceId: newId });
  print(res, () =>
    io.out(
      `${newId} took over ${old.displayName}: name ${res.name ?? '-'}, group ${res.group ?? '-'}, tags ${res.tags.join(', ') || '-'}; ${oldId} is retired`,
    ),
  );
  return 0;
}

/** The devices of a bulk edit: the positionals and --device, resolved to ids. */
async function selection(r: Run): Promise<string[]> {
  const typed = [...r.args, ...(r.o.device ?? [])];
  if (typed.length === 0) throw new UsageError('name the devices: mdm devices move --group G DEVICE ... (or --device DEVICE ...)');
  return [...new Set(await Promise.all(typed.map((t) => resolveDevice(r.api, t))))];
}

async function bulk(r: Run, path: string, body: MoveDevicesBody | TagDevicesBody, what: string): Promise<number> {
  const { io, api, print } = r;
  const dry = await api.request<BulkResult>('POST', path, { ...body, dryRun: true });
  if (!(await confirmed(r, `${what}: ${dry.changed} of ${dry.matched} device(s) change. Apply?`))) return 1;
  const res = await api.request<BulkResult>('POST', path, body);
  print(res, () => io.out(`${what}: ${res.changed} of ${res.matched} device(s) changed`));
  return 0;
}

export async function moveDevices(r: Run): Promise<number> {
  if (r.o.group === undefined) throw new UsageError('devices move needs --group G (--group "" for no group)');
  const group = r.o.group.trim() || null;
  const deviceIds = await selection(r);
  return bulk(r, '/api/v1/admin/devices/move', { deviceIds, group }, group ? `move to group "${group}"` : 'move out of their group');
}

export async function tagDevices(r: Run): Promise<number> {
  const add = r.o.add ?? [];
  const remove = r.o.remove ?? [];
  if (add.length + remove.length === 0) throw new UsageError('devices tag needs --add T and/or --remove T (each repeatable)');
  const deviceIds = await selection(r);
  const what = [add.length ? `add ${add.join(', ')}` : '', remove.length ? `remove ${remove.join(', ')}` : ''].filter(Boolean).join(', ');
  return bulk(r, '/api/v1/admin/devices/tags', { deviceIds, add, remove }, what);
}
