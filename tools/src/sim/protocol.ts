import { isRecord } from './http-client.js';

/**
 * The request and response bodies of device protocol v1 (docs/protocol.md), typed from the device's
 * side. Responses are narrowed field by field: the simulator trusts nothing the server sends.
 */
export interface DeviceEvent {
  type: string;
  at: string;
  data?: Record<string, string | number | boolean | null>;
}

export interface HeartbeatBody {
  sentAt: string;
  battery: { level: number; charging: boolean; temperatureC: number };
  memory: { availBytes: number; totalBytes: number };
  storage: { freeBytes: number; totalBytes: number };
  network: { type: string; rssi?: number; ip: string };
  app: {
    package: string;
    running: boolean;
    foreground: boolean;
    versionName: string;
    versionCode: number;
    lastFrameAgeMs?: number;
  };
  uptimeSec: number;
  agentVersion: string;
  /** v2: the agent's own versionCode. */
  agentVersionCode?: number;
  fcmToken?: string;
  events?: DeviceEvent[];
  /** v2: the hash of the policy applied (null: none yet). */
  policy?: { hash: string | null };
}

/** The protocol's limit on events per heartbeat. */
export const MAX_EVENTS_PER_HEARTBEAT = 50;

export interface Enrollment {
  deviceId: string;
  deviceSecret: string;
  hmacKey: string;
  heartbeatIntervalSec: number;
}

export interface Session {
  accessToken: string;
  expiresAtMs: number;
}

export interface HeartbeatAnswer {
  nextHeartbeatSec: number | undefined;
  /** Envelopes, unchecked: the device's verifier decides what they are worth. */
  commands: unknown[];
  /** Ids of commands the server cancelled: never run them, report `cancelled`. */
  cancelled: string[];
}

export type CommandStatus = 'succeeded' | 'failed' | 'rejected' | 'cancelled';

export interface CommandResult {
  status: CommandStatus;
  output?: string;
  error?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function parseEnrollment(body: unknown): Enrollment | null {
  if (!isRecord(body)) return null;
  const deviceId = str(body.deviceId);
  const deviceSecret = str(body.deviceSecret);
  const hmacKey = str(body.hmacKey);
  const interval = body.heartbeatIntervalSec;
  if (!deviceId || !deviceSecret || !hmacKey) return null;
  return { deviceId, deviceSecret, hmacKey, heartbeatIntervalSec: typeof interval === 'number' ? interval : 0 };
}

export function parseSession(body: unknown): Session | null {
  if (!isRecord(body)) return null;
  const accessToken = str(body.accessToken);
  const expiresAtMs = Date.parse(str(body.expiresAt) ?? '');
  if (!accessToken || Number.isNaN(expiresAtMs)) return null;
  return { accessToken, expiresAtMs };
}

export function parseHeartbeatAnswer(body: unknown): HeartbeatAnswer {
  if (!isRecord(body)) return { nextHeartbeatSec: undefined, commands: [], cancelled: [] };
  const next = body.nextHeartbeatSec;
  return {
    nextHeartbeatSec: typeof next === 'number' && Number.isInteger(next) && next > 0 ? next : undefined,
    commands: Array.isArray(body.commands) ? (body.commands as unknown[]) : [],
    cancelled: Array.isArray(body.cancelled)
      ? (body.cancelled as unknown[]).filter((c): c is string => typeof c === 'string' && c.length > 0 && c.length <= 128)
      : [],
  };
}
