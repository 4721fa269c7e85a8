import { describe, expect, it } from 'vitest';
import { appView, batteryStep, severity } from './device-state.js';
import { query, emptyFilter } from './fleet-query.js';
import { sampleDoc } from './device-doc.fixture.js';
import type { DeviceDoc } from './types.js';

const doc = (name: string, over: Partial<DeviceDoc> = {}): DeviceDoc =>
  sampleDoc({
    id: name,
    name,
    model: 'M',
    serial: null,
    lastSeenAt: '2026-12-06T10:00:00.000Z',
    updatedAt: '2026-12-06T10:00:00.000Z',
    ...over,
  });

describe('trouble first', () => {
  it('sorts alerting, then offline, then app down, then the rest (the default order)', () => {
    const fleet = [
      doc('a fine'),
      doc('b app down', { app: 'down' }),
      doc('c offline', { status: 'offline' }),
      doc('d alerting', { openAlerts: ['low_battery'] }),
    ];
    expect(query(fleet, emptyFilter(), { key: 'status', dir: 'asc' }).map((d) => d.name)).toEqual([
      'd alerting',
      'c offline',
      'b app down',
      'a fine',
    ]);
    expect(fleet.map(severity)).toEqual([3, 2, 1, 0]);
  });

  it('never shows an offline device as Running, nor Running next to an open app_down alert', () => {
    expect(appView('running', 'offline')).toEqual({ label: 'Last: Running', tone: 'preset-tonal-surface', lastKnown: true });
    expect(appView('running', 'online', ['app_down']).label).toBe('Recovering');
    expect(appView('running', 'online', ['app_frozen']).label).toBe('Recovering');
    expect(appView('running', 'online').label).toBe('Running');
    expect(appView('down', 'online', ['app_down']).label).toBe('Down');
  });

  it('rounds the battery as the live documents do', () => {
    expect(batteryStep(36)).toBe(35);
    expect(batteryStep(35)).toBe(35);
    expect(batteryStep(100)).toBe(100);
    expect(batteryStep(null)).toBeNull();
  });
});
