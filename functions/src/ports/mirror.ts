/**
 * The Mirror port: what the admin console watches live. One document per device with the fields the
 * fleet view needs, and one fleet summary. Firebase keeps them in Firestore (the console listens with
 * onSnapshot); standalone sends them as Server-Sent Events. Writers decide when a document is worth
 * writing (see fleet-view/fleet-view.repository.ts); adapters only deliver.
 */
export interface DeviceDoc {
  id: string;
  /** The name, or model and serial until renamed. */
  name: string;
  model: string;
  serial: string | null;
  group: string | null;
  tags: string[];
  /** retiring: a WIPE is on its way; retired: out of the counts and the sweep, kept for its history. */
  status: 'online' | 'offline' | 'retiring' | 'retired';
  /** Last contact when the document was written (documents are not rewritten on every heartbeat). */
  lastSeenAt: string;
  /** Battery level in whole 5% steps, or null before the first heartbeat. */
  battery: number | null;
  charging: boolean | null;
  app: 'running' | 'down' | 'frozen' | 'unknown';
  /** The kiosk app's versionName and versionCode as the last heartbeat reported them. */
  appVersionName: string | null;
  appVersionCode: number | null;
  agentVersion: string;
  androidVersion: string;
  openAlerts: string[];
  updatedAt: string;
}

export interface FleetSummary {
  total: number;
  online: number;
  offline: number;
  /** Devices with at least one open alert. */
  alerting: number;
  appDown: number;
  /** Retiring and retired devices: not in total, online or offline. */
  retired: number;
  updatedAt: string;
}

export interface Mirror {
  writeDevices(docs: DeviceDoc[]): Promise<void>;
  writeSummary(summary: FleetSummary): Promise<void>;
  /** Deleted devices: their documents go. */
  removeDevices(ids: string[]): Promise<void>;
}

export const noMirror: Mirror = { writeDevices: async () => {}, writeSummary: async () => {}, removeDevices: async () => {} };
