import type { DeviceDoc } from './types.js';

/** A device's live document for unit tests: online, app running, 80% battery; `over` sets the rest. */
export const sampleDoc = (over: Partial<DeviceDoc> = {}): DeviceDoc => ({
  id: '00000000-0000-4000-8000-000000000000',
  name: 'Pixel 7 SN1',
  model: 'Pixel 7',
  serial: 'SN1',
  group: null,
  tags: [],
  status: 'online',
  lastSeenAt: '2026-03-10T12:00:00.000Z',
  battery: 80,
  charging: false,
  app: 'running',
  appVersionName: '2.3.0',
  appVersionCode: 230,
  agentVersion: '1.0.0',
  androidVersion: '14',
  openAlerts: [],
  updatedAt: '2026-03-10T12:00:00.000Z',
  ...over,
});
