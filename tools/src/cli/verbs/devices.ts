import { ApiError } from '../api.js';
import type { AlertView, CommandView, DeviceListItem, DeviceView, GroupList, Page } from '../api-types.js';
import { ago, duration, integer, table, UsageError } from '../output.js';
import { resolveDevice } from '../resolve.js';
import type { Run } from './verb.js';

export async function listDevices({ o, args, io, api, print }: Run): Promise<number> {
  if (args.length) throw new UsageError(`unknown: devices ${args.join(' ')}`);
  const q = new URLSearchParams({ limit: String(o.limit ? integer('--limit', o.limit) : 100) });
  if (o.status) q.set('status', o.status);
  if (o.tag) q.set('tag', o.tag);
  if (o.search) q.set('q', o.search);
  if (o.group) q.set('groupId', await groupId(api, o.group));
  const res = await api.get<Page<DeviceListItem>>(`/api/v1/admin/devices?${q}`);
  print(res.items, () =>
    table(
      io,
      ['ID', 'NAME', 'STATUS', 'BATTERY', 'APP', 'GROUP', 'LAST SEEN'],
      res.items.map((d) => [
        d.id,
        d.displayName,
        d.status,
        d.battery ? `${d.battery.level}%` : '-',
        appWord(d.app),
        d.group?.name ?? '-',
        ago(d.lastSeenAt),
      ]),
    ),
  );
  return 0;
}

export async function groupId(api: Run['api'], name: string): Promise<string> {
  const groups = await api.get<GroupList>('/api/v1/admin/groups');
  const g = groups.items.find((x) => x.name === name);
  if (!g) throw new ApiError(404, 'no_such_group', `no group named ${name}`);
  return g.id;
}

const appWord = (app: DeviceListItem['app']) =>
  app ? (app.running && app.foreground ? 'running' : app.running ? 'background' : 'down') : '-';

export async function showDevice({ args, io, api, print }: Run): Promise<number> {
  if (args.length !== 1) throw new UsageError('device show takes one device: its id, a prefix of it, its name or serial');
  const id = await resolveDevice(api, args[0]!);
  const [device, alerts, commands] = await Promise.all([
    api.get<DeviceView>(`/api/v1/admin/devices/${id}`),
    api.get<Page<AlertView>>(`/api/v1/admin/alerts?deviceId=${id}&status=open&limit=50`),
    api.get<Page<CommandView>>(`/api/v1/admin/commands?deviceId=${id}&limit=5`),
  ]);
  print({ device, openAlerts: alerts.items, recentCommands: commands.items }, () => {
    const d = device;
    const row = (k: string, v: string) => io.out(`${k.padEnd(10)} ${v}`);
    io.out(`${d.displayName}  ${d.id}`);
    row('status', `${d.status}, last seen ${ago(d.lastSeenAt)}`);
    row('group', `${d.group?.name ?? '-'}${d.tags.length ? `, tags ${d.tags.join(', ')}` : ''}`);
    row('hardware', `${d.manufacturer} ${d.model}${d.serial ? `, serial ${d.serial}` : ''}, Android ${d.androidVersion} (SDK ${d.sdkInt})`);
    row('agent', `${d.agentVersion}, enrolled ${d.enrolledAt}`);
    const b = d.battery;
    row('battery', b ? `${b.level}%${b.charging ? ' charging' : ''}${b.temperatureC !== null ? `, ${b.temperatureC} °C` : ''}` : '-');
    const a = d.app;
    row(
      'app',
      a
        ? `${a.package} ${appWord(a)}${a.versionName ? ` ${a.versionName}` : ''}${a.versionCode !== null ? ` (${a.versionCode})` : ''}` +
            (a.lastFrameAgeMs !== null ? `, last frame ${duration(a.lastFrameAgeMs)} before the report` : '')
        : '-',
    );
    if (d.memory) row('memory', `${gb(d.memory.availBytes)} free of ${gb(d.memory.totalBytes)}`);
    if (d.storage) row('storage', `${gb(d.storage.freeBytes)} free of ${gb(d.storage.totalBytes)}`);
    if (d.network)
      row(
        'network',
        `${d.network.type}${d.network.ip ? ` ${d.network.ip}` : ''}${d.network.rssi !== null ? `, ${d.network.rssi} dBm` : ''}`,
      );
    if (d.uptimeSec !== null) row('uptime', duration(d.uptimeSec * 1000));
    io.out('');
    if (alerts.items.length === 0) io.out('open alerts: none');
    else {
      io.out('open alerts:');
      table(
        io,
        ['ID', 'KIND', 'OPENED', 'ACKNOWLEDGED'],
        alerts.items.map((x) => [x.id, x.kind, ago(x.openedAt), x.acknowledgedBy ?? '-']),
      );
    }
    io.out('');
    io.out('recent commands:');
    table(
      io,
      ['ID', 'TYPE', 'STATUS', 'SENT'],
      commands.items.map((c) => [c.id, c.type, c.status, ago(c.createdAt)]),
    );
  });
  return 0;
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;
