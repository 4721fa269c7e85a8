import { describe, expect, it } from 'vitest';
import { appVersionLabel, counts, duplicateSerials, emptyFilter, facets, newer, query } from './fleet-query.js';
import { sampleDoc } from './device-doc.fixture.js';
import type { DeviceDoc } from './types.js';

const doc = (over: Partial<DeviceDoc>): DeviceDoc => sampleDoc(over);

const fleet = [
  doc({ id: 'a', name: 'Lobby 2', group: 'Store 12', tags: ['lobby'], battery: 15, lastSeenAt: '2026-03-10T11:00:00.000Z', status: 'offline', openAlerts: ['offline'] }),
  doc({ id: 'b', name: 'Lobby 10', group: 'Store 12', tags: ['lobby', 'east'], battery: 90, app: 'down', openAlerts: ['app_down'] }),
  doc({
    id: 'c',
    name: 'Checkout',
    serial: 'R5CT99',
    group: 'Store 7',
    battery: null,
    app: 'unknown',
    lastSeenAt: '2026-03-10T11:59:00.000Z',
    appVersionName: null,
    appVersionCode: null,
    agentVersion: '1.1.0',
    androidVersion: '13',
  }),
  doc({ id: 'd', name: 'Entrance', group: null, battery: 55, app: 'frozen', openAlerts: ['app_frozen', 'low_battery'] }),
];
const ids = (rows: DeviceDoc[]) => rows.map((r) => r.id);

describe('version filters', () => {
  it('filters by app, agent and Android version, and lists the versions present newest first', () => {
    const f = emptyFilter();
    const byName = { key: 'name', dir: 'asc' } as const;
    expect(ids(query(fleet, { ...f, appVersion: '2.3.0 (230)' }, byName)).sort()).toEqual(['a', 'b', 'd']);
    expect(ids(query(fleet, { ...f, agentVersion: '1.1.0' }, byName))).toEqual(['c']);
    expect(ids(query(fleet, { ...f, androidVersion: '14', agentVersion: '1.0.0' }, byName)).sort()).toEqual(['a', 'b', 'd']);
    expect(facets(fleet)).toMatchObject({ appVersions: ['2.3.0 (230)'], agentVersions: ['1.1.0', '1.0.0'], androidVersions: ['14', '13'] });
    expect(appVersionLabel({ appVersionName: '2.4.0', appVersionCode: null })).toBe('2.4.0');
    expect(appVersionLabel({ appVersionName: null, appVersionCode: null })).toBe('');
  });
});

describe('the fleet view query', () => {
  it('searches name, serial, group and tags, case-insensitively', () => {
    const f = emptyFilter();
    expect(ids(query(fleet, { ...f, q: 'lobby' }, { key: 'name', dir: 'asc' }))).toEqual(['a', 'b']);
    expect(ids(query(fleet, { ...f, q: 'r5ct' }, { key: 'name', dir: 'asc' }))).toEqual(['c']);
    expect(ids(query(fleet, { ...f, q: 'STORE 7' }, { key: 'name', dir: 'asc' }))).toEqual(['c']);
    expect(ids(query(fleet, { ...f, q: 'east' }, { key: 'name', dir: 'asc' }))).toEqual(['b']);
  });

  it('filters by status, alerting, app down, group, tag and alert kind', () => {
    const f = emptyFilter();
    const by = (over: Partial<typeof f>) => ids(query(fleet, { ...f, ...over }, { key: 'name', dir: 'asc' }));
    expect(by({ status: 'offline' })).toEqual(['a']);
    expect(by({ status: 'online' })).toEqual(['c', 'd', 'b']);
    expect(by({ status: 'alerting' })).toEqual(['d', 'a', 'b']);
    expect(by({ status: 'app_down' })).toEqual(['b']);
    expect(by({ group: 'Store 12' })).toEqual(['a', 'b']);
    expect(by({ tag: 'lobby', alert: 'offline' })).toEqual(['a']);
    expect(by({ alert: 'low_battery' })).toEqual(['d']);
  });

  it('sorts by each column both ways, names numerically, with a stable tie-break', () => {
    const f = emptyFilter();
    expect(ids(query(fleet, f, { key: 'name', dir: 'asc' }))).toEqual(['c', 'd', 'a', 'b']);
    expect(ids(query(fleet, f, { key: 'battery', dir: 'desc' }))).toEqual(['b', 'd', 'a', 'c']);
    expect(ids(query(fleet, f, { key: 'lastSeen', dir: 'asc' }))).toEqual(['a', 'c', 'd', 'b']);
    expect(ids(query(fleet, f, { key: 'app', dir: 'asc' }))).toEqual(['b', 'd', 'c', 'a']);
    expect(ids(query(fleet, f, { key: 'status', dir: 'asc' }))[0]).toBe('a');
  });

  it('counts by status and lists the groups and tags present', () => {
    expect(counts(fleet)).toEqual({ total: 4, online: 3, offline: 1, alerting: 3, appDown: 1, retired: 0 });
    expect(facets(fleet)).toMatchObject({ groups: ['Store 7', 'Store 12'], tags: ['east', 'lobby'] });
  });

  it('keeps the newer of two documents of a device', () => {
    const old = doc({ updatedAt: '2026-03-10T12:00:00.000Z' });
    expect(newer(undefined, old)).toBe(true);
    expect(newer(old, doc({ updatedAt: '2026-03-10T12:00:05.000Z' }))).toBe(true);
    expect(newer(old, doc({ updatedAt: '2026-03-10T11:59:00.000Z', lastSeenAt: '2026-03-10T11:00:00.000Z' }))).toBe(false);
  });

  it('filters and sorts 10,000 devices in well under a frame budget of a keystroke', () => {
    const big = Array.from({ length: 10_000 }, (_, i) =>
      doc({ id: `id${i}`, name: `Kiosk ${i}`, battery: i % 100, group: `Site ${i % 50}`, tags: [`t${i % 7}`], lastSeenAt: new Date(1_773_000_000_000 + i * 1000).toISOString() }),
    );
    const t = performance.now();
    const rows = query(big, { ...emptyFilter(), q: 'kiosk 1', tag: 't3' }, { key: 'battery', dir: 'desc' });
    const ms = performance.now() - t;
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.every((r) => r.tags.includes('t3') && r.name.startsWith('Kiosk 1'))).toBe(true);
    expect(ms).toBeLessThan(500); // generous for a loaded CI machine; typically a few ms
  });

  it('keeps retired devices out of the counts and the default view, and shows them under "retired"', () => {
    const withRetired = [...fleet, doc({ id: 'r', name: 'Old till', status: 'retired' }), doc({ id: 's', name: 'Wiping', status: 'retiring' })];
    expect(counts(withRetired)).toEqual({ total: 4, online: 3, offline: 1, alerting: 3, appDown: 1, retired: 2 });
    const sort = { key: 'name', dir: 'asc' } as const;
    expect(ids(query(withRetired, emptyFilter(), sort))).toEqual(['c', 'd', 'a', 'b']);
    expect(ids(query(withRetired, { ...emptyFilter(), status: 'retired' }, sort))).toEqual(['r', 's']);
  });

  it('flags serials shared by devices that are not retired, but not "unknown"', () => {
    const devices = [
      doc({ id: 'x1', serial: 'HW-1' }),
      doc({ id: 'x2', serial: 'HW-1' }),
      doc({ id: 'x3', serial: 'HW-2' }),
      doc({ id: 'x4', serial: 'HW-2', status: 'retired' }),
      doc({ id: 'u1', serial: 'unknown' }),
      doc({ id: 'u2', serial: 'UNKNOWN' }),
      doc({ id: 'n1', serial: null }),
      doc({ id: 'n2', serial: null }),
    ];
    const dups = duplicateSerials(devices);
    expect([...dups].sort()).toEqual(['x1', 'x2']);
    expect(ids(query(devices, { ...emptyFilter(), status: 'duplicates' }, { key: 'name', dir: 'asc' }, dups)).sort()).toEqual(['x1', 'x2']);
  });
});
