/**
 * The API shapes the CLI reads and sends. Hand-written copies of the server's schemas until the types
 * generated from its OpenAPI document (api-types.generated.ts) land; then these become aliases of those.
 */
export type Page<T> = { items: T[]; nextCursor: string | null };

export type LoginResponse = { token: string; expiresAt?: string };

export type DeviceView = {
  id: string;
  name: string | null;
  displayName: string;
  status: 'online' | 'offline';
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
};
export type DeviceListItem = Pick<
  DeviceView,
  'id' | 'name' | 'displayName' | 'status' | 'serial' | 'battery' | 'app' | 'lastSeenAt' | 'group'
>;
export type GroupList = { items: { id: string; name: string; deviceCount: number }[] };

export type CommandStatus = 'queued' | 'dispatched' | 'delivered' | 'succeeded' | 'failed' | 'rejected' | 'expired';
export type CommandView = {
  id: string;
  batchId: string;
  deviceId: string;
  type: string;
  params: Record<string, unknown>;
  status: CommandStatus;
  createdAt: string;
  expiresAt: string;
  dispatchedAt: string | null;
  deliveredAt: string | null;
  completedAt: string | null;
  output: string | null;
  error: string | null;
};
export type CommandDetail = CommandView & {
  dispatches: { at: string; channel: 'fcm' | 'heartbeat'; attempt: number; outcome: string; error: string | null }[];
};
export type CreateCommandBody = {
  type: string;
  params?: Record<string, unknown>;
  deviceIds?: string[];
  group?: string;
  tag?: string;
  all?: true;
  confirm?: string;
};
export type CreatedCommands = {
  batchId: string;
  count: number;
  commands: { id: string; deviceId: string; type: string; status: CommandStatus }[];
};

export type AlertView = {
  id: string;
  kind: 'offline' | 'low_battery' | 'app_down' | 'app_frozen';
  status: 'open' | 'resolved';
  device: { id: string; name: string; group: string | null };
  openedAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
};

export type TokenView = {
  id: string;
  label: string;
  group: string | null;
  status: 'active' | 'used' | 'revoked' | 'expired';
  expiresAt: string;
  uses: number;
  maxUses: number;
};
export type CreateTokenBody = { label?: string; group?: string; expiresInSec?: number; maxUses?: number };
export type CreatedToken = TokenView & { token: string };

export type UserView = {
  id: string;
  email: string;
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
};
export type CreateUserBody = { email: string; role: string; name?: string; password?: string };
export type CreatedUser = UserView & { generatedPassword?: string };

/** GET /api/v1/admin/settings/alerts: the OpenAPI document gives no schema for it, so this stays a plain JSON tree. */
export type AlertSettingsView = { [key: string]: unknown };
export type AlertSettingsPatch = { [key: string]: unknown };
