import type { DeviceDoc, FleetSummary } from '../types.js';

/**
 * The console's live connection, one typed interface with two implementations chosen by
 * GET /api/v1/console-config: Server-Sent Events from the standalone server (sse-source.ts), or
 * Firestore onSnapshot on the mirror documents in a Firebase deployment (firestore-source.ts).
 * Both deliver the same DeviceDoc and FleetSummary shapes the backend's Mirror port writes.
 */
export type LiveStatus =
  /** First connection under way. */
  | 'connecting'
  /** Connected: updates arrive as they happen. */
  | 'live'
  /** The connection dropped; retrying on its own. */
  | 'reconnecting'
  /** Gave up (signed out, or the deployment has no live view); the console still works by reloads. */
  | 'stopped';

export interface LiveHandlers {
  devices(docs: DeviceDoc[]): void;
  summary(summary: FleetSummary): void;
  /** Devices deleted on the server: their rows go. */
  removed(ids: string[]): void;
  status(status: LiveStatus, detail?: string): void;
  /** After a reconnect: events may have been missed, reload the snapshot. */
  resync(): void;
}

export interface LiveSource {
  readonly kind: 'sse' | 'firestore';
  start(handlers: LiveHandlers): void;
  stop(): void;
}

/** Narrows a document from the wire or a store; null when it is not a device document. */
export function toDeviceDoc(value: unknown): DeviceDoc | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const str = (x: unknown) => typeof x === 'string';
  const strOrNull = (x: unknown) => x === null || x === undefined || typeof x === 'string';
  if (!str(v.id) || !str(v.name) || !str(v.lastSeenAt) || !str(v.updatedAt)) return null;
  if (v.status !== 'online' && v.status !== 'offline' && v.status !== 'retiring' && v.status !== 'retired') return null;
  const app = v.app === 'running' || v.app === 'down' || v.app === 'frozen' ? v.app : 'unknown';
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((t): t is string => typeof t === 'string') : []);
  return {
    id: v.id as string,
    name: v.name as string,
    model: str(v.model) ? (v.model as string) : '',
    serial: strOrNull(v.serial) ? ((v.serial as string | null | undefined) ?? null) : null,
    group: strOrNull(v.group) ? ((v.group as string | null | undefined) ?? null) : null,
    tags: list(v.tags),
    status: v.status,
    lastSeenAt: v.lastSeenAt as string,
    battery: typeof v.battery === 'number' ? v.battery : null,
    charging: typeof v.charging === 'boolean' ? v.charging : null,
    app,
    appVersionName: str(v.appVersionName) ? (v.appVersionName as string) : null,
    appVersionCode: typeof v.appVersionCode === 'number' ? v.appVersionCode : null,
    agentVersion: str(v.agentVersion) ? (v.agentVersion as string) : '',
    androidVersion: str(v.androidVersion) ? (v.androidVersion as string) : '',
    openAlerts: list(v.openAlerts),
    updatedAt: v.updatedAt as string,
  };
}

export function toSummary(value: unknown): FleetSummary | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const keys = ['total', 'online', 'offline', 'alerting', 'appDown'] as const;
  if (!keys.every((k) => typeof v[k] === 'number') || typeof v.updatedAt !== 'string') return null;
  return {
    total: v.total,
    online: v.online,
    offline: v.offline,
    alerting: v.alerting,
    appDown: v.appDown,
    retired: typeof v.retired === 'number' ? v.retired : 0,
    updatedAt: v.updatedAt,
  } as FleetSummary;
}
