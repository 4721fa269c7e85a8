import { severity } from './device-state.js';
import type { DeviceDoc } from './types.js';

/**
 * The fleet view's filters and sorting, run in the browser over the whole fleet held in memory
 * (10,000 devices filter and sort in a few milliseconds), so every keystroke answers at once.
 */
export interface FleetFilter {
  q: string;
  /** '': every device but the retired ones; retired: retiring and retired ones; duplicates: a serial shared with another device. */
  status: '' | 'online' | 'offline' | 'alerting' | 'app_down' | 'retired' | 'duplicates';
  group: string;
  tag: string;
  alert: string;
  /** The kiosk app's versionName, the agent's version, the Android version ('' for any). */
  appVersion: string;
  agentVersion: string;
  androidVersion: string;
}

export type SortKey = 'name' | 'status' | 'battery' | 'app' | 'lastSeen';
export interface FleetSort {
  key: SortKey;
  dir: 'asc' | 'desc';
}

export const emptyFilter = (): FleetFilter => ({ q: '', status: '', group: '', tag: '', alert: '', appVersion: '', agentVersion: '', androidVersion: '' });

/** The kiosk app's version as the table shows it: "2.3.0 (230)", or '' before the app reported one. */
export const appVersionLabel = (d: Pick<DeviceDoc, 'appVersionName' | 'appVersionCode'>) =>
  d.appVersionName ? (d.appVersionCode === null ? d.appVersionName : `${d.appVersionName} (${d.appVersionCode})`) : '';

const isRetired = (d: DeviceDoc) => d.status === 'retiring' || d.status === 'retired';

export function matches(d: DeviceDoc, f: FleetFilter, q: string, duplicates: ReadonlySet<string> = new Set()): boolean {
  if (f.status === 'retired') {
    if (!isRetired(d)) return false;
  } else if (isRetired(d)) return false;
  if (f.status === 'duplicates' && !duplicates.has(d.id)) return false;
  if (f.status === 'online' || f.status === 'offline') {
    if (d.status !== f.status) return false;
  } else if (f.status === 'alerting') {
    if (d.openAlerts.length === 0) return false;
  } else if (f.status === 'app_down' && d.app !== 'down') return false;
  if (f.group && d.group !== f.group) return false;
  if (f.tag && !d.tags.includes(f.tag)) return false;
  if (f.alert && !d.openAlerts.includes(f.alert)) return false;
  if (f.appVersion && appVersionLabel(d) !== f.appVersion) return false;
  if (f.agentVersion && d.agentVersion !== f.agentVersion) return false;
  if (f.androidVersion && d.androidVersion !== f.androidVersion) return false;
  if (q) {
    const hay = `${d.name}\u0000${d.model}\u0000${d.serial ?? ''}\u0000${d.id}\u0000${d.group ?? ''}\u0000${d.tags.join('\u0000')}`;
    if (!hay.toLowerCase().includes(q)) return false;
  }
  return true;
}

/** One collator for every name comparison: String.localeCompare builds one per call, 100x slower at fleet scale. */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

const APP_ORDER: Record<DeviceDoc['app'], number> = { down: 0, frozen: 1, unknown: 2, running: 3 };

const compare: Record<SortKey, (a: DeviceDoc, b: DeviceDoc) => number> = {
  name: (a, b) => collator.compare(a.name, b.name),
  // Trouble first when ascending (the default): alerting, offline, app down, then the rest.
  status: (a, b) =>
    severity(a) - severity(b) || Number(a.status === 'online') - Number(b.status === 'online') || b.openAlerts.length - a.openAlerts.length,
  battery: (a, b) => (a.battery ?? -1) - (b.battery ?? -1),
  app: (a, b) => APP_ORDER[a.app] - APP_ORDER[b.app],
  lastSeen: (a, b) => (a.lastSeenAt < b.lastSeenAt ? -1 : a.lastSeenAt > b.lastSeenAt ? 1 : 0),
};

/** Filters and sorts; ties break by name, then id, so the order never jumps between updates. */
export function query(
  devices: Iterable<DeviceDoc>,
  f: FleetFilter,
  sort: FleetSort,
  duplicates: ReadonlySet<string> = new Set(),
): DeviceDoc[] {
  const q = f.q.trim().toLowerCase();
  const out: DeviceDoc[] = [];
  for (const d of devices) if (matches(d, f, q, duplicates)) out.push(d);
  const cmp = compare[sort.key];
  const sign = sort.dir === 'asc' ? 1 : -1;
  out.sort((a, b) => sign * cmp(a, b) || compare.name(a, b) || (a.id < b.id ? -1 : 1));
  return out;
}

export interface Counts {
  total: number;
  online: number;
  offline: number;
  alerting: number;
  appDown: number;
  /** Retiring and retired devices: in none of the other counts. */
  retired: number;
}

export function counts(devices: Iterable<DeviceDoc>): Counts {
  const c: Counts = { total: 0, online: 0, offline: 0, alerting: 0, appDown: 0, retired: 0 };
  for (const d of devices) {
    if (isRetired(d)) {
      c.retired++;
      continue;
    }
    c.total++;
    if (d.status === 'online') c.online++;
    else c.offline++;
    if (d.openAlerts.length > 0) c.alerting++;
    if (d.app === 'down') c.appDown++;
  }
  return c;
}

/**
 * Devices whose serial another device shares (not counting retired ones, nor "unknown", which
 * Android reports to apps that may not read the serial): the same hardware enrolled twice.
 */
export function duplicateSerials(devices: Iterable<DeviceDoc>): Set<string> {
  const bySerial = new Map<string, string[]>();
  for (const d of devices) {
    if (isRetired(d) || !d.serial || d.serial.toLowerCase() === 'unknown') continue;
    const ids = bySerial.get(d.serial);
    if (ids) ids.push(d.id);
    else bySerial.set(d.serial, [d.id]);
  }
  const out = new Set<string>();
  for (const ids of bySerial.values()) if (ids.length > 1) for (const id of ids) out.add(id);
  return out;
}

/** Distinct groups, tags and versions present, for the filter menus (versions newest first). */
export function facets(devices: Iterable<DeviceDoc>) {
  const groups = new Set<string>();
  const tags = new Set<string>();
  const appVersions = new Set<string>();
  const agentVersions = new Set<string>();
  const androidVersions = new Set<string>();
  for (const d of devices) {
    if (d.group) groups.add(d.group);
    for (const t of d.tags) tags.add(t);
    const app = appVersionLabel(d);
    if (app) appVersions.add(app);
    if (d.agentVersion) agentVersions.add(d.agentVersion);
    if (d.androidVersion) androidVersions.add(d.androidVersion);
  }
  const sorted = (s: Set<string>) => [...s].sort(collator.compare);
  const newestFirst = (s: Set<string>) => sorted(s).reverse();
  return {
    groups: sorted(groups),
    tags: sorted(tags),
    appVersions: newestFirst(appVersions),
    agentVersions: newestFirst(agentVersions),
    androidVersions: newestFirst(androidVersions),
  };
}

/** Keeps the newer of two documents of one device (documents carry the time they were written). */
export function newer(current: DeviceDoc | undefined, incoming: DeviceDoc): boolean {
  if (!current) return true;
  return incoming.updatedAt >= current.updatedAt || incoming.lastSeenAt > current.lastSeenAt;
}
