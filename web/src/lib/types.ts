/** The API shapes as the console uses them (the backend schemas in functions/src, and GET /api/v1/openapi.json). */
export type Role = 'viewer' | 'operator' | 'admin';
export const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface Admin {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export type AppState = 'running' | 'down' | 'frozen' | 'unknown';
export type DeviceStatus = 'online' | 'offline';

/** A device as the live mirror shows it (platform/mirror.ts DeviceDoc): the fleet view's row. */
export interface DeviceDoc {
  id: string;
  name: string;
  model: string;
  serial: string | null;
  group: string | null;
  tags: string[];
  status: DeviceStatus;
  lastSeenAt: string;
  battery: number | null;
  charging: boolean | null;
  app: AppState;
  openAlerts: string[];
  updatedAt: string;
}

export interface FleetSummary {
  total: number;
  online: number;
  offline: number;
  alerting: number;
  appDown: number;
  updatedAt: string;
}

export interface DeviceView {
  id: string;
  name: string | null;
  displayName: string;
  status: DeviceStatus;
  model: string;
  manufacturer: string;
  serial: string | null;
  androidVersion: string;
  sdkInt: number;
  agentVersion: string;
  group: { id: string; name: string } | null;
  tags: string[];
  enrolledAt: string;
  lastSeenAt: string;
  stateSentAt: string | null;
  battery: { level: number; charging: boolean; temperatureC: number | null } | null;
  memory: { availBytes: number; totalBytes: number } | null;
  storage: { freeBytes: number; totalBytes: number } | null;
  network: { type: string; rssi: number | null; ip: string | null } | null;
  app: {
    package: string;
    running: boolean;
    foreground: boolean;
    versionName: string | null;
    versionCode: number | null;
    lastFrameAgeMs: number | null;
  } | null;
  uptimeSec: number | null;
  hasPushToken: boolean;
}

export interface TelemetryPoint {
  receivedAt: string;
  batteryLevel: number;
  charging: boolean;
  memAvailBytes: number;
  memTotalBytes: number;
  storageFreeBytes: number | null;
  storageTotalBytes: number | null;
}

export const COMMAND_TYPES = ['PING', 'RELAUNCH_APP', 'LOCK', 'REBOOT', 'CLEAR_APP_DATA', 'INSTALL_APK', 'SET_CONFIG', 'WIPE'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];
export type CommandStatus = 'queued' | 'dispatched' | 'delivered' | 'succeeded' | 'failed' | 'rejected' | 'expired';

export interface CommandView {
  id: string;
  batchId: string;
  deviceId: string;
  type: CommandType;
  params: Record<string, unknown>;
  status: CommandStatus;
  createdAt: string;
  createdBy: { type: 'admin' | 'system'; id: string | null };
  completedAt: string | null;
  output: string | null;
  error: string | null;
}

export const ALERT_KINDS = ['offline', 'low_battery', 'app_down', 'app_frozen'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertView {
  id: string;
  kind: AlertKind;
  status: 'open' | 'resolved';
  device: { id: string; name: string; group: string | null };
  conditionSince: string;
  openedAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  details: Record<string, unknown>;
  remediation: { step: number; action: string; commandId: string | null; commandStatus: string | null; takenAt: string; outcome: string | null }[];
}

export interface TokenView {
  id: string;
  label: string;
  group: string | null;
  tags: string[];
  status: 'active' | 'used' | 'revoked' | 'expired';
  createdAt: string;
  createdBy: string | null;
  expiresAt: string;
  usedAt: string | null;
  uses: number;
  maxUses: number;
  deviceId: string | null;
  revokedAt: string | null;
}

export interface CreatedToken extends TokenView {
  token: string;
  adbScript: { sh: string; ps1: string };
}

export interface AgentRelease {
  packageName: string;
  componentName: string;
  serverUrl: string;
  downloadUrl: string;
  versionCode: number | null;
  versionName?: string | null;
  sha256: string | null;
  signatureChecksum: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: { type: 'admin' | 'device' | 'system'; id: string | null; name: string };
  action: string;
  target: { type: string; id: string | null } | null;
  deviceId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ConsoleConfig {
  liveSource: 'sse' | 'firestore';
  firebase?: { apiKey: string; authDomain: string; projectId: string; appId: string };
}
