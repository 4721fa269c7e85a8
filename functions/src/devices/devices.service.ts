import { decodeTimeCursor, encodeTimeCursor } from '../core/cursor.js';
import { AppError, conflict, notFound, tooManyRequests, unauthorized } from '../core/errors.js';
import type { AuditService } from '../audit/index.js';
import type { DeviceActor, StaffActor } from '../core/route.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { SecretHasher } from '../ports/secret-hasher.js';
import type { SessionTokens } from '../core/session-tokens.js';
import {
  findDevice,
  findDeviceSecret,
  listDevices,
  listGroups,
  listHeartbeats,
  listHourly,
  rolledUpTo,
  updateDevice,
  upsertGroup,
  type HourlyRow,
  type DeviceRow,
} from './devices.repository.js';
import type { HeartbeatInput, ListDevicesQuery, UpdateDeviceInput } from './devices.schemas.js';
import type { LiveView } from '../fleet-view/index.js';
import type { HeartbeatWriter } from './heartbeat-writer.js';
import { HeartbeatQuota } from './heartbeat-quota.js';
import { lifecycleOf } from './lifecycle.repository.js';

const retired = () => new AppError(403, 'device_retired', 'this device was retired; enroll it again to use it');

/** Where heartbeat responses get the device's commands from (the commands context). */
export interface CommandOutbox {
  /** Signed envelopes due for the device, and ids of commands it may hold that were cancelled. */
  heartbeatOutbox(deviceId: string, now: Date): Promise<{ commands: Record<string, string>[]; cancelled: string[] }>;
}

export interface DeviceServiceOptions {
  sessionTtlSec: number;
  heartbeatIntervalSec: number;
  bcryptRounds: number;
  /** HEARTBEAT_RETENTION_DAYS: ranges older than this are answered from the hourly rollups. */
  rawRetentionDays: number;
  /** HEARTBEAT_DEVICE_MAX_PER_MIN: more from one device answer 429 and are not stored (default 10). */
  heartbeatMaxPerMinute?: number;
}

const DAY_MS = 86_400_000;
const MIB = 1048576;
/** Telemetry ranges longer than this are answered hourly when the caller leaves it to us. */
const RAW_RANGE_MAX_MS = 2 * DAY_MS;

export class DeviceService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tokens: SessionTokens,
    private readonly hasher: SecretHasher,
    private readonly writer: HeartbeatWriter,
    private readonly outbox: CommandOutbox,
    private readonly audit: AuditService,
    private readonly mirror: LiveView,
    private readonly options: DeviceServiceOptions,
  ) {
    this.#quota = new HeartbeatQuota(clock, options.heartbeatMaxPerMinute ?? 10);
  }

  readonly #quota: HeartbeatQuota;

  /** bcrypt runs here, once per session, so heartbeats only verify a JWT. */
  async openSession(deviceId: string, deviceSecret: string) {
    const found = await findDeviceSecret(this.db, deviceId);
    const ok = await this.hasher.verify(deviceSecret, found?.secret_hash, this.options.bcryptRounds);
    if (!found || !ok) throw unauthorized('invalid_credentials', 'unknown device or wrong secret');
    if (found.lifecycle === 'retired') throw retired();
    const { token, expiresAt } = await this.tokens.sign('device', deviceId, this.clock.now(), this.options.sessionTtlSec);
    return { accessToken: token, expiresAt };
  }

  async authenticate(token: string): Promise<DeviceActor | null> {
    const verified = this.tokens.verify('device', token, this.clock.now());
    return verified ? { kind: 'device', deviceId: verified.sub } : null;
  }

  /**
   * Stores the heartbeat and the device's latest state atomically (through the group-commit writer),
   * and answers with the device's pending signed commands - the path that delivers every command
   * even when a push is lost.
   */
  async heartbeat(device: DeviceActor, hb: HeartbeatInput) {
    const retryAfterSec = this.#quota.take(device.deviceId);
    if (retryAfterSec > 0) throw tooManyRequests(retryAfterSec, 'too many heartbeats from this device');
    const receivedAt = this.clock.now();
    const stored = await this.writer.write({ deviceId: device.deviceId, hb, receivedAt });
    if (!stored) {
      // the failure path only: was it retired, or is it gone?
      if ((await lifecycleOf(this.db, device.deviceId)) === 'retired') throw retired();
      throw unauthorized('unknown_device', 'this device is not enrolled; enroll it again');
    }
    const { commands, cancelled } = stored.hasCommands
      ? await this.outbox.heartbeatOutbox(device.deviceId, receivedAt)
      : { commands: [], cancelled: [] };
    return {
      // v2 (docs/protocol.md): the effective policy; null when none applies. v1 agents ignore both fields.
      protocolVersion: 2,
      serverTime: receivedAt,
      nextHeartbeatSec: this.options.heartbeatIntervalSec,
      commands,
      cancelled,
      policy: stored.policy,
    };
  }

  async list(q: ListDevicesQuery) {
    const now = this.clock.now();
    const cursor = decodeTimeCursor(q.cursor);
    const after = cursor && { lastSeenAt: cursor.at, id: cursor.id };
    const cutoff = await this.onlineCutoff(now);
    const rows = await listDevices(this.db, { ...q, after, limit: q.limit + 1, onlineCutoff: cutoff });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => this.view(r, cutoff)),
      nextCursor: rows.length > q.limit && last ? encodeTimeCursor(last.last_seen_at, last.id) : null,
    };
  }

  async get(id: string) {
    const row = await findDevice(this.db, id);
    if (!row) throw notFound('device');
    return this.view(row, await this.onlineCutoff(this.clock.now()));
  }

  /** Renames a device, moves it between groups, replaces its tags; audited. A retired device is not edited (409). */
  async update(actor: StaffActor, id: string, input: UpdateDeviceInput, ip: string) {
    const tags = input.tags === undefined ? undefined : [...new Set(input.tags)].sort();
    await this.db.transaction().execute(async (trx) => {
      if ((await lifecycleOf(trx, id)) === 'retired') throw conflict('device_retired', 'a retired device cannot be edited');
      const groupId = input.group === undefined ? undefined : input.group === null ? null : await upsertGroup(trx, input.group);
      if (!(await updateDevice(trx, id, { name: input.name, groupId, tags }))) throw notFound('device');
      await this.audit.record(
        trx,
        actor,
        {
          action: 'updated_device',
          target: { type: 'device', id },
          details: {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.group !== undefined ? { group: input.group } : {}),
            ...(tags ? { tags } : {}),
          },
        },
        ip,
      );
    });
    await this.mirror.tryPublish([id]);
    return this.get(id);
  }

  async groups() {
    const rows = await listGroups(this.db);
    return { items: rows.map((g) => ({ id: g.id, name: g.name, deviceCount: Number(g.device_count ?? 0), createdAt: g.created_at })) };
  }

  /**
   * A device's time series: every heartbeat for short, recent ranges; hourly rollups (min/avg/max)
   * for long ones and for anything older than the raw heartbeats are kept.
   */
  async telemetry(
    id: string,
    q: { from?: string | undefined; to?: string | undefined; limit: number; resolution?: 'auto' | 'raw' | 'hour' | undefined },
  ) {
    if (!(await findDevice(this.db, id))) throw notFound('device');
    const now = this.clock.now();
    const to = q.to ? new Date(q.to) : now;
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    const resolution =
      q.resolution === 'raw' || q.resolution === 'hour'
        ? q.resolution
        : to.getTime() - from.getTime() > RAW_RANGE_MAX_MS || from.getTime() < now.getTime() - this.options.rawRetentionDays * DAY_MS
          ? 'hour'
          : 'raw';
    if (resolution === 'hour') {
      const hours = await listHourly(this.db, id, from, to, await rolledUpTo(this.db), q.limit + 1);
      return { deviceId: id, from, to, resolution, truncated: hours.length > q.limit, points: hours.slice(0, q.limit).map(hourPoint) };
    }
    const rows = await listHeartbeats(this.db, id, from, to, q.limit + 1);
    return {
      deviceId: id,
      from,
      to,
      resolution,
      truncated: rows.length > q.limit,
      points: rows.slice(0, q.limit).map((h) => ({
        receivedAt: h.received_at,
        sentAt: h.sent_at,
        batteryLevel: h.battery_level,
        charging: h.battery_charging,
        temperatureC: h.battery_temp_dc === null ? null : h.battery_temp_dc / 10,
        memAvailBytes: h.mem_avail_bytes,
        memTotalBytes: h.mem_total_bytes,
        storageFreeBytes: h.storage_free_bytes,
        storageTotalBytes: h.storage_total_bytes,
        appRunning: h.app_running,
        appForeground: h.app_foreground,
        lastFrameAgeMs: h.app_last_frame_age_ms,
        rssi: h.network_rssi,
        uptimeSec: h.uptime_sec,
      })),
    };
  }

  private async onlineCutoff(now: Date): Promise<Date> {
    return new Date(now.getTime() - (await this.mirror.thresholds()).offlineAfterSec * 1000);
  }

  private view(d: DeviceRow, onlineCutoff: Date) {
    return {
      id: d.id,
      name: d.name,
      displayName: d.name ?? [d.model, d.serial].filter(Boolean).join(' '),
      status: d.lifecycle !== 'active' ? d.lifecycle : d.last_seen_at >= onlineCutoff ? ('online' as const) : ('offline' as const),
      model: d.model,
      manufacturer: d.manufacturer,
      serial: d.serial,
      androidVersion: d.android_version,
      sdkInt: d.sdk_int,
      agentVersion: d.agent_version,
      agentVersionCode: d.agent_version_code,
      group: d.group_id && d.group_name ? { id: d.group_id, name: d.group_name } : null,
      tags: d.tags ?? [],
      enrolledAt: d.enrolled_at,
      lastSeenAt: d.last_seen_at,
      stateSentAt: d.state_sent_at,
      battery:
        d.battery_level === null ? null : { level: d.battery_level, charging: d.battery_charging ?? false, temperatureC: d.battery_temp_c },
      memory: d.mem_total_bytes === null ? null : { availBytes: d.mem_avail_bytes ?? 0, totalBytes: d.mem_total_bytes },
      storage: d.storage_total_bytes === null ? null : { freeBytes: d.storage_free_bytes ?? 0, totalBytes: d.storage_total_bytes },
      network: d.network_type === null ? null : { type: d.network_type, rssi: d.network_rssi, ip: d.network_ip },
      app:
        d.app_package === null
          ? null
          : {
              package: d.app_package,
              running: d.app_running ?? false,
              foreground: d.app_foreground ?? false,
              versionName: d.app_version_name,
              versionCode: d.app_version_code,
              lastFrameAgeMs: d.app_last_frame_age_ms,
            },
      uptimeSec: d.uptime_sec,
      hasPushToken: d.fcm_token !== null,
      retiredAt: d.retired_at,
      replacedBy: d.replaced_by,
      duplicateSerialOf: d.lifecycle === 'retired' ? [] : (d.duplicate_ids ?? []),
    };
  }
}

/** An hour of rollup as a telemetry point: the plain fields as a raw point has them, plus the spread. */
function hourPoint(h: HourlyRow) {
  const mib = (v: number | null) => (v === null ? null : v * MIB);
  return {
    receivedAt: h.hour,
    sentAt: h.hour,
    batteryLevel: Math.round(h.battery_avg),
    charging: h.charging_samples * 2 > h.samples,
    temperatureC: null,
    memAvailBytes: h.mem_avail_avg_mb * MIB,
    memTotalBytes: h.mem_total_mb * MIB,
    storageFreeBytes: mib(h.storage_free_avg_mb),
    storageTotalBytes: mib(h.storage_total_mb),
    appRunning: h.app_up_samples * 2 > h.samples,
    appForeground: h.app_up_samples * 2 > h.samples,
    lastFrameAgeMs: null,
    rssi: null,
    uptimeSec: h.uptime_max_sec,
    samples: h.samples,
    batteryMin: h.battery_min,
    batteryMax: h.battery_max,
    batteryAvg: Math.round(h.battery_avg * 10) / 10,
    memAvailMinBytes: h.mem_avail_min_mb * MIB,
    memAvailMaxBytes: h.mem_avail_max_mb * MIB,
    storageFreeMinBytes: mib(h.storage_free_min_mb),
    storageFreeMaxBytes: mib(h.storage_free_max_mb),
    chargingRatio: Math.round((h.charging_samples / h.samples) * 1000) / 1000,
    appUpRatio: Math.round((h.app_up_samples / h.samples) * 1000) / 1000,
  };
}
