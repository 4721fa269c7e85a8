import { sql, type Kysely } from 'kysely';
import type { Db } from '../platform/db/connect.js';
import type { Database } from '../platform/db/schema.generated.js';
import type { HeartbeatInput, ListDevicesQuery } from './devices.schemas.js';

type Conn = Kysely<Database>;

export const findDeviceSecretHash = async (db: Db, id: string) =>
  (await db.selectFrom('devices').select('secret_hash').where('id', '=', id).executeTakeFirst())?.secret_hash;

/**
 * Stores one heartbeat as one statement, so it is atomic without a transaction round trip: the CTE
 * updates the device's latest state (only from a heartbeat at least as new, by the device's clock, as
 * the state it has) and the outer insert adds the heartbeat row only if the device exists.
 * Returns false when the device does not exist.
 */
export async function insertHeartbeat(db: Conn, deviceId: string, hb: HeartbeatInput, receivedAt: Date): Promise<boolean> {
  const sentAt = new Date(hb.sentAt);
  const temp = hb.battery.temperatureC ?? null;
  const { rows } = await sql<{ device_id: string }>`
    with cur as (
      select id, (state_sent_at is null or state_sent_at <= ${sentAt}::timestamptz) as fresh
      from devices where id = ${deviceId}::uuid
    ), d as (
      update devices set
        last_seen_at = greatest(devices.last_seen_at, ${receivedAt}::timestamptz),
        agent_version = ${hb.agentVersion}::text,
        fcm_token_updated_at = case when ${hb.fcmToken ?? null}::text is distinct from devices.fcm_token
          and ${hb.fcmToken ?? null}::text is not null then ${receivedAt}::timestamptz else devices.fcm_token_updated_at end,
        fcm_token = coalesce(${hb.fcmToken ?? null}::text, devices.fcm_token),
        state_sent_at = case when cur.fresh then ${sentAt}::timestamptz else devices.state_sent_at end,
        battery_level = case when cur.fresh then ${hb.battery.level}::smallint else devices.battery_level end,
        battery_charging = case when cur.fresh then ${hb.battery.charging}::boolean else devices.battery_charging end,
        battery_temp_c = case when cur.fresh then ${temp}::real else devices.battery_temp_c end,
        mem_avail_bytes = case when cur.fresh then ${hb.memory.availBytes}::bigint else devices.mem_avail_bytes end,
        mem_total_bytes = case when cur.fresh then ${hb.memory.totalBytes}::bigint else devices.mem_total_bytes end,
        storage_free_bytes = case when cur.fresh then ${hb.storage?.freeBytes ?? null}::bigint else devices.storage_free_bytes end,
        storage_total_bytes = case when cur.fresh then ${hb.storage?.totalBytes ?? null}::bigint else devices.storage_total_bytes end,
        network_type = case when cur.fresh then ${hb.network?.type ?? null}::text else devices.network_type end,
        network_rssi = case when cur.fresh then ${hb.network?.rssi ?? null}::smallint else devices.network_rssi end,
        network_ip = case when cur.fresh then ${hb.network?.ip ?? null}::text else devices.network_ip end,
        app_package = case when cur.fresh then ${hb.app.package}::text else devices.app_package end,
        app_running = case when cur.fresh then ${hb.app.running}::boolean else devices.app_running end,
        app_foreground = case when cur.fresh then ${hb.app.foreground}::boolean else devices.app_foreground end,
        app_version_name = case when cur.fresh then ${hb.app.versionName ?? null}::text else devices.app_version_name end,
        app_version_code = case when cur.fresh then ${hb.app.versionCode ?? null}::bigint else devices.app_version_code end,
        app_last_frame_age_ms = case when cur.fresh then ${hb.app.lastFrameAgeMs ?? null}::integer else devices.app_last_frame_age_ms end,
        uptime_sec = case when cur.fresh then ${hb.uptimeSec}::bigint else devices.uptime_sec end
      from cur
      where devices.id = cur.id
      returning devices.id
    )
    insert into heartbeats (
      device_id, received_at, sent_at, mem_avail_bytes, mem_total_bytes, storage_free_bytes, storage_total_bytes,
      uptime_sec, app_last_frame_age_ms, battery_level, battery_temp_dc, network_rssi, battery_charging,
      app_running, app_foreground
    )
    select d.id, ${receivedAt}::timestamptz, ${sentAt}::timestamptz, ${hb.memory.availBytes}::bigint,
      ${hb.memory.totalBytes}::bigint, ${hb.storage?.freeBytes ?? null}::bigint, ${hb.storage?.totalBytes ?? null}::bigint,
      ${hb.uptimeSec}::bigint, ${hb.app.lastFrameAgeMs ?? null}::integer, ${hb.battery.level}::smallint,
      ${temp === null ? null : Math.round(temp * 10)}::smallint, ${hb.network?.rssi ?? null}::smallint,
      ${hb.battery.charging}::boolean, ${hb.app.running}::boolean, ${hb.app.foreground}::boolean
    from d
    returning device_id`.execute(db);
  return rows.length === 1;
}

export async function insertDeviceEvents(
  db: Conn,
  deviceId: string,
  events: NonNullable<HeartbeatInput['events']>,
  receivedAt: Date,
): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('device_events')
    .values(
      events.map((e) => ({
        device_id: deviceId,
        received_at: receivedAt,
        occurred_at: new Date(e.at),
        type: e.type,
        data: JSON.stringify(e.data ?? {}),
      })),
    )
    .execute();
}

/** Creates the daily heartbeat partitions from `from`'s UTC day through `days` days later; returns how many were new. */
export async function ensureHeartbeatPartitions(db: Conn, from: Date, days: number): Promise<number> {
  const { rows } = await sql<{ created: number }>`select mdm_ensure_heartbeat_partitions(${from}::timestamptz, ${days}::integer) as created`.execute(db);
  return Number(rows[0]?.created ?? 0);
}

const deviceColumns = (db: Db) =>
  db.selectFrom('devices as d').leftJoin('device_groups as g', 'g.id', 'd.group_id').selectAll('d').select('g.name as group_name');

export type DeviceRow = NonNullable<Awaited<ReturnType<typeof findDevice>>>;

export const findDevice = (db: Db, id: string) => deviceColumns(db).where('d.id', '=', id).executeTakeFirst();

export function listDevices(
  db: Db,
  q: Omit<ListDevicesQuery, 'cursor'> & { after?: { lastSeenAt: Date; id: string } | undefined; onlineCutoff: Date },
) {
  const desc = q.sort === '-lastSeen';
  let query = deviceColumns(db)
    .orderBy('d.last_seen_at', desc ? 'desc' : 'asc')
    .orderBy('d.id', desc ? 'desc' : 'asc')
    .limit(q.limit);
  if (q.status === 'online') query = query.where('d.last_seen_at', '>=', q.onlineCutoff);
  if (q.status === 'offline') query = query.where('d.last_seen_at', '<', q.onlineCutoff);
  if (q.groupId) query = query.where('d.group_id', '=', q.groupId);
  if (q.q) {
    const pattern = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('d.name', 'ilike', pattern),
        eb('d.model', 'ilike', pattern),
        eb('d.manufacturer', 'ilike', pattern),
        eb('d.serial', 'ilike', pattern),
        eb(sql`d.id::text`, '=', q.q!.toLowerCase()),
      ]),
    );
  }
  if (q.after) {
    const { lastSeenAt, id } = q.after;
    query = query.where((eb) => eb(eb.refTuple('d.last_seen_at', 'd.id'), desc ? '<' : '>', eb.tuple(lastSeenAt, id)));
  }
  return query.execute();
}

export function listHeartbeats(db: Db, deviceId: string, from: Date, to: Date, limit: number) {
  return db
    .selectFrom('heartbeats')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('received_at', '>=', from)
    .where('received_at', '<=', to)
    .orderBy('received_at', 'asc')
    .limit(limit)
    .execute();
}
