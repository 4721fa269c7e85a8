import { sql, type Kysely } from 'kysely';
import type { Db } from '../ports/db.js';
import { preparedAs } from '../ports/db.js';
import type { Database, HeartbeatRollup } from '../ports/schema.generated.js';
import type { HeartbeatInput, ListDevicesQuery } from './devices.schemas.js';
import { mirrorDue, visibleFingerprint, type MirrorPolicy } from '../fleet-view/index.js';
import { MEANINGFUL_SERIAL } from './lifecycle.repository.js';

type Conn = Kysely<Database>;

export const findDeviceSecret = (db: Db, id: string) =>
  db.selectFrom('devices').select(['secret_hash', 'lifecycle']).where('id', '=', id).executeTakeFirst();

export interface HeartbeatRow {
  deviceId: string;
  hb: HeartbeatInput;
  receivedAt: Date;
}

/**
 * Every value of one column of the batch, as a typed PostgreSQL array parameter. Times go as ISO
 * strings (the validated sentAt as received): cheaper to serialize than Date objects.
 */
const col = <T>(rows: HeartbeatRow[], type: string, pick: (r: HeartbeatRow) => T) => sql`${rows.map(pick)}::${sql.raw(type)}[]`;

/** State moves forward only: a heartbeat older (by the device's clock) than the stored state does not overwrite it. */
const fresh = sql`(d.state_sent_at is null or d.state_sent_at <= l.sent_at)`;
const newer = (column: string) => sql`${sql.ref(column)} = case when ${fresh} then l.${sql.ref(column)} else d.${sql.ref(column)} end`;

/**
 * Stores a batch of heartbeats as ONE statement, atomic without a transaction round trip: `unnest`
 * turns the column arrays into rows; the newest heartbeat per device updates that device's latest
 * state; every heartbeat of an existing device becomes a heartbeat row; their events go to
 * device_events. Returns, for each device that exists and is not retired (heartbeats of any other
 * are not stored: a retired device's token stops working at once, at no extra cost),
 * whether it has commands to pick up - so the common heartbeat needs no second query.
 * The statement has the same shape whatever the batch size.
 */
export interface StoredDevice {
  hasCommands: boolean;
  mirrorDue: boolean;
  /** Heartbeats of this device in the batch that were stored before (same bootId and seq): answered, not stored. */
  duplicates: number;
  /** The device's effective policy (policies/: its override, else its group's, else the fleet's); null: none applies. */
  policy: { version: number; hash: string } | null;
}

/** `a << n` for a 64-bit window, 0 once everything is shifted out (PostgreSQL's << wraps the count). */
const shl = (a: ReturnType<typeof sql>, n: ReturnType<typeof sql>) =>
  sql`(case when ${n} >= 64 then 0::bigint else ${a} << (${n})::int end)`;

export async function insertHeartbeats(db: Conn, rows: HeartbeatRow[], mirror: MirrorPolicy): Promise<Map<string, StoredDevice>> {
  const events = rows.flatMap((r, i) =>
    (r.hb.events ?? []).map((e) => ({ ...e, ord: i + 1, deviceId: r.deviceId, receivedAt: r.receivedAt })),
  );
  const due = mirrorDue(mirror, fresh);
  // The device rows are locked first (in id order, found by primary key: `= any(array)` keeps the
  // planner on the index whatever the fleet size) so the duplicate check below reads the window as
  // the last committed batch left it, even when a retry races its original through two statements.
  // FOR NO KEY UPDATE, not FOR UPDATE: the key is never changed, and the weaker lock leaves the
  // foreign-key checks of rows that point at the device (a command being sent to it) unblocked.
  // The text never changes with the batch (every value is a parameter, arrays included), so it is
  // prepared once per connection: planning it cost more than running it.
  const { rows: stored } = await sql<{
    device_id: string;
    has_commands: boolean;
    mirror_due: boolean;
    duplicates: number;
    policy_hash: string | null;
    policy_version: string | null;
  }>`${sql.raw(preparedAs('heartbeat_batch'))}
    with i as (
      select * from unnest(
        ${col(rows, 'uuid', (r) => r.deviceId)}, ${col(rows, 'timestamptz', (r) => r.receivedAt.toISOString())},
        ${col(rows, 'timestamptz', (r) => r.hb.sentAt)}, ${col(rows, 'text', (r) => r.hb.agentVersion)},
        ${col(rows, 'text', (r) => r.hb.fcmToken ?? null)}, ${col(rows, 'smallint', (r) => r.hb.battery.level)},
        ${col(rows, 'boolean', (r) => r.hb.battery.charging)}, ${col(rows, 'real', (r) => r.hb.battery.temperatureC ?? null)},
        ${col(rows, 'bigint', (r) => r.hb.memory.availBytes)}, ${col(rows, 'bigint', (r) => r.hb.memory.totalBytes)},
        ${col(rows, 'bigint', (r) => r.hb.storage?.freeBytes ?? null)}, ${col(rows, 'bigint', (r) => r.hb.storage?.totalBytes ?? null)},
        ${col(rows, 'text', (r) => r.hb.network?.type ?? null)}, ${col(rows, 'smallint', (r) => r.hb.network?.rssi ?? null)},
        ${col(rows, 'text', (r) => r.hb.network?.ip ?? null)}, ${col(rows, 'text', (r) => r.hb.app.package)},
        ${col(rows, 'boolean', (r) => r.hb.app.running)}, ${col(rows, 'boolean', (r) => r.hb.app.foreground)},
        ${col(rows, 'text', (r) => r.hb.app.versionName ?? null)}, ${col(rows, 'bigint', (r) => r.hb.app.versionCode ?? null)},
        ${col(rows, 'integer', (r) => r.hb.app.lastFrameAgeMs ?? null)}, ${col(rows, 'bigint', (r) => r.hb.uptimeSec)},
        ${col(rows, 'text', (r) => r.hb.bootId ?? null)}, ${col(rows, 'bigint', (r) => r.hb.seq ?? null)},
        ${col(rows, 'bigint', (r) => r.hb.agentVersionCode ?? null)}
      ) with ordinality as t(device_id, received_at, sent_at, agent_version, fcm_token, battery_level, battery_charging,
        battery_temp_c, mem_avail_bytes, mem_total_bytes, storage_free_bytes, storage_total_bytes, network_type,
        network_rssi, network_ip, app_package, app_running, app_foreground, app_version_name, app_version_code,
        app_last_frame_age_ms, uptime_sec, boot_id, seq, agent_version_code, ord)
    ), dv as materialized (
      select id, group_id, hb_boot_id, hb_seq, hb_seen, state_sent_at from devices
      where id = any(${[...new Set(rows.map((r) => r.deviceId))]}::uuid[]) and lifecycle <> 'retired'
      order by id for no key update
    ), k as (
      -- a duplicate: the same (bootId, seq) earlier in this batch, or already in the device's window
      select i.*, i.boot_id is not null and (
          row_number() over (partition by i.device_id, i.boot_id, i.seq order by i.ord) > 1
          or coalesce(i.boot_id = dv.hb_boot_id and i.seq <= dv.hb_seq and dv.hb_seq - i.seq < 64
              and (dv.hb_seen >> (dv.hb_seq - i.seq)::int) & 1 = 1, false)
        ) as dup
      from i join dv on dv.id = i.device_id
    ), v as (
      select * from k where not dup
    ), l as (
      select distinct on (device_id) * from v order by device_id, sent_at desc, ord desc
    ), w as (
      -- the window moves to the boot of the newest heartbeat, unless that one is older than the stored state
      select l.device_id, l.boot_id, dv.hb_seen as old_seen,
        case when l.boot_id = dv.hb_boot_id then dv.hb_seq end as old_seq,
        greatest(case when l.boot_id = dv.hb_boot_id then dv.hb_seq end, m.max_seq) as new_seq
      from l join dv on dv.id = l.device_id
      join (select device_id, boot_id, max(seq) as max_seq from v where boot_id is not null group by device_id, boot_id) m
        on m.device_id = l.device_id and m.boot_id = l.boot_id
      where l.boot_id is not null and (l.boot_id = dv.hb_boot_id or dv.hb_boot_id is null or dv.state_sent_at is null or dv.state_sent_at <= l.sent_at)
    ), ws as (
      select w.device_id, w.boot_id, w.new_seq,
        (case when w.old_seq is null then 0::bigint else ${shl(sql`w.old_seen`, sql`w.new_seq - w.old_seq`)} end)
          | coalesce(bit_or(case when w.new_seq - v.seq < 64 then 1::bigint << (w.new_seq - v.seq)::int end), 0) as new_seen
      from w join v on v.device_id = w.device_id and v.boot_id = w.boot_id
      group by w.device_id, w.boot_id, w.new_seq, w.old_seq, w.old_seen
    ), u as (
      update devices d set
        last_seen_at = greatest(d.last_seen_at, l.received_at),
        agent_version = l.agent_version,
        fcm_token_updated_at = case when l.fcm_token is not null and l.fcm_token is distinct from d.fcm_token
          then l.received_at else d.fcm_token_updated_at end,
        fcm_token = coalesce(l.fcm_token, d.fcm_token),
        fcm_token_invalid_at = case when l.fcm_token is not null and l.fcm_token is distinct from d.fcm_token
          then null else d.fcm_token_invalid_at end,
        state_sent_at = case when ${fresh} then l.sent_at else d.state_sent_at end,
        mirror_fp = case when ${fresh} then ${visibleFingerprint('l.', mirror.frozenAfterMs)} else d.mirror_fp end,
        mirror_at = case when ${due} then ${mirror.now}::timestamptz else d.mirror_at end,
        hb_boot_id = case when ws.device_id is null then d.hb_boot_id else ws.boot_id end,
        hb_seq = case when ws.device_id is null then d.hb_seq else ws.new_seq end,
        hb_seen = case when ws.device_id is null then d.hb_seen else ws.new_seen end,
        ${newer('battery_level')}, ${newer('battery_charging')}, ${newer('battery_temp_c')},
        ${newer('mem_avail_bytes')}, ${newer('mem_total_bytes')}, ${newer('storage_free_bytes')}, ${newer('storage_total_bytes')},
        ${newer('network_type')}, ${newer('network_rssi')}, ${newer('network_ip')}, ${newer('app_package')},
        ${newer('app_running')}, ${newer('app_foreground')}, ${newer('app_version_name')}, ${newer('app_version_code')},
        ${newer('app_last_frame_age_ms')}, ${newer('uptime_sec')},
        -- what the newest heartbeat says, like the app's versionCode: an agent that does not report it leaves null
        ${newer('agent_version_code')}
      from l left join ws on ws.device_id = l.device_id
      where d.id = l.device_id
      returning d.id, d.mirror_at = ${mirror.now}::timestamptz as mirror_due
    ), ev as (
      insert into device_events (device_id, received_at, occurred_at, type, data)
      select e.device_id, e.received_at, e.occurred_at, e.type, e.data
      from unnest(
        ${events.map((e) => e.ord)}::bigint[], ${events.map((e) => e.deviceId)}::uuid[], ${events.map((e) => e.receivedAt)}::timestamptz[],
        ${events.map((e) => new Date(e.at))}::timestamptz[], ${events.map((e) => e.type)}::text[],
        ${events.map((e) => JSON.stringify(e.data ?? {}))}::jsonb[]
      ) as e(ord, device_id, received_at, occurred_at, type, data)
      where e.ord in (select ord from v)
    ), hb as (
      insert into heartbeats (
        device_id, received_at, sent_at, mem_avail_bytes, mem_total_bytes, storage_free_bytes, storage_total_bytes,
        uptime_sec, app_last_frame_age_ms, battery_level, battery_temp_dc, network_rssi, battery_charging,
        app_running, app_foreground
      )
      select device_id, received_at, sent_at, mem_avail_bytes, mem_total_bytes, storage_free_bytes, storage_total_bytes,
        uptime_sec, app_last_frame_age_ms, battery_level, round(battery_temp_c * 10)::smallint, network_rssi,
        battery_charging, app_running, app_foreground
      from v
      order by ord
    )
    select dv.id as device_id,
      exists (
        select 1 from commands c
        where c.device_id = dv.id and c.status in ('queued', 'dispatched')
          and c.not_before <= ${mirror.now}::timestamptz and c.expires_at > ${mirror.now}::timestamptz
      ) or exists (
        -- a cancel the device has not answered (commands_cancel_untold_idx)
        select 1 from commands c
        where c.device_id = dv.id and c.status = 'cancelled' and c.dispatched_at is not null
          and (c.device_report is null or c.device_report = 'delivered') and c.expires_at > ${mirror.now}::timestamptz
      ) as has_commands,
      coalesce(u.mirror_due, false) as mirror_due, coalesce(x.duplicates, 0) as duplicates,
      pol.effective_hash as policy_hash, pol.effective_version as policy_version
    from dv
    left join u on u.id = dv.id
    -- the effective policy, so the answer carries its hash without a second query: at most three
    -- primary-key probes of the small policies table (policies/policies.repository.ts, docs/policies.md)
    left join lateral (
      select p.effective_hash, p.effective_version from policies p
      where p.key in ('fleet', 'g:' || dv.group_id::text, 'd:' || dv.id::text)
      order by case p.scope when 'device' then 2 when 'group' then 1 else 0 end desc limit 1
    ) pol on true
    left join (select device_id, count(*)::int as duplicates from k where dup group by device_id) x on x.device_id = dv.id`.execute(db);
  return new Map(
    stored.map((r) => [
      r.device_id,
      {
        hasCommands: r.has_commands,
        mirrorDue: r.mirror_due,
        duplicates: r.duplicates,
        policy: r.policy_hash === null ? null : { version: Number(r.policy_version), hash: r.policy_hash },
      },
    ]),
  );
}

/** Creates the daily heartbeat partitions from `from`'s UTC day through `days` days later; returns how many were new. */
export async function ensureHeartbeatPartitions(db: Conn, from: Date, days: number): Promise<number> {
  const { rows } = await sql<{
    created: number;
  }>`select mdm_ensure_heartbeat_partitions(${from}::timestamptz, ${days}::integer) as created`.execute(db);
  return Number(rows[0]?.created ?? 0);
}

const deviceColumns = (db: Db) =>
  db
    .selectFrom('devices as d')
    .leftJoin('device_groups as g', 'g.id', 'd.group_id')
    .selectAll('d')
    .select('g.name as group_name')
    .select((eb) =>
      eb
        .selectFrom('device_tags as t')
        .select(sql<string[]>`coalesce(array_agg(t.tag order by t.tag), '{}')`.as('tags'))
        .whereRef('t.device_id', '=', 'd.id')
        .as('tags'),
    )
    // other devices, not retired, enrolled with the same hardware serial: a duplicate to replace or retire
    .select((eb) =>
      eb
        .selectFrom('devices as o')
        .select(sql<string[]>`coalesce(array_agg(o.id order by o.enrolled_at, o.id), '{}')`.as('ids'))
        .whereRef('o.serial', '=', 'd.serial')
        .whereRef('o.id', '<>', 'd.id')
        .where('o.lifecycle', '<>', 'retired')
        .where(MEANINGFUL_SERIAL)
        .as('duplicate_ids'),
    );

/** Another device, not retired, has the same meaningful serial as `d` (devices_serial_idx). */
const hasDuplicate = sql<boolean>`exists (select 1 from devices o
  where o.serial = d.serial and o.id <> d.id and o.lifecycle <> 'retired' and ${MEANINGFUL_SERIAL})`;

export type DeviceRow = NonNullable<Awaited<ReturnType<typeof findDevice>>>;

export const findDevice = (db: Db, id: string) => deviceColumns(db).where('d.id', '=', id).executeTakeFirst();

export function listDevices(
  db: Db,
  q: Omit<ListDevicesQuery, 'cursor'> & { after?: { lastSeenAt: Date; id: string } | undefined; onlineCutoff: Date },
) {
  const desc = q.sort === '-lastSeen';
  // The order walks device_presence's (last_seen_at, device_id) index: devices.last_seen_at is the
  // same value but not indexed, so that a heartbeat's update of the device stays HOT (migration 0028).
  let query = deviceColumns(db)
    .innerJoin('device_presence as p', 'p.device_id', 'd.id')
    .orderBy('p.last_seen_at', desc ? 'desc' : 'asc')
    .orderBy('p.device_id', desc ? 'desc' : 'asc')
    .limit(q.limit);
  if (q.status === 'online' || q.status === 'offline') {
    query = query.where('d.lifecycle', '=', 'active').where('p.last_seen_at', q.status === 'online' ? '>=' : '<', q.onlineCutoff);
  } else if (q.status === 'retiring' || q.status === 'retired') query = query.where('d.lifecycle', '=', q.status);
  else if (q.status !== 'any') query = query.where('d.lifecycle', '<>', 'retired');
  if (q.duplicates) query = query.where(hasDuplicate);
  if (q.groupId) query = query.where('d.group_id', '=', q.groupId);
  if (q.tag) {
    const tag = q.tag;
    query = query.where((eb) =>
      eb.exists(eb.selectFrom('device_tags as t').select('t.device_id').whereRef('t.device_id', '=', 'd.id').where('t.tag', '=', tag)),
    );
  }
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
    query = query.where((eb) => eb(eb.refTuple('p.last_seen_at', 'p.device_id'), desc ? '<' : '>', eb.tuple(lastSeenAt, id)));
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

/** Renames a device, moves it to a group (null: none) and/or replaces its tags; false when it does not exist. */
export async function updateDevice(
  trx: Conn,
  id: string,
  change: { name?: string | null | undefined; groupId?: string | null | undefined; tags?: string[] | undefined },
): Promise<boolean> {
  const set: { name?: string | null; group_id?: string | null } = {};
  if (change.name !== undefined) set.name = change.name;
  if (change.groupId !== undefined) set.group_id = change.groupId;
  const found = await (Object.keys(set).length
    ? trx.updateTable('devices').set(set).where('id', '=', id).returning('id').executeTakeFirst()
    : trx.selectFrom('devices').select('id').where('id', '=', id).forNoKeyUpdate().executeTakeFirst());
  if (!found) return false;
  if (change.tags !== undefined) {
    await trx.deleteFrom('device_tags').where('device_id', '=', id).execute();
    if (change.tags.length)
      await trx
        .insertInto('device_tags')
        .values(change.tags.map((tag) => ({ device_id: id, tag })))
        .execute();
  }
  return true;
}

export const listGroups = async (db: Db) => (await groupsStatement().execute(db)).rows;

/**
 * listGroups' statement (exported so that its plan can be checked): every group with its devices that
 * are not retired, counted in one pass over the devices (0.17 s at a million). A count per group through
 * the group index fetched each device row at random to read its lifecycle: 2.6 s for 50 groups.
 */
export const groupsStatement = () => sql<{ id: string; name: string; created_at: Date; device_count: number }>`
  select g.id, g.name, g.created_at, coalesce(c.n, 0)::int as device_count
  from device_groups g
  left join (select d.group_id, count(*) filter (where d.lifecycle <> 'retired') as n
    from devices d where d.group_id is not null group by d.group_id) c on c.group_id = g.id
  order by g.name`;

/** The id of the group with this name, created if new. */
export async function upsertGroup(db: Conn, name: string): Promise<string> {
  const row = await db
    .insertInto('device_groups')
    .values({ name })
    .onConflict((oc) => oc.column('name').doUpdateSet({ name: (eb) => eb.ref('excluded.name') }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * One hour of a device's heartbeats summarised: the columns of heartbeat_rollups, in their order after
 * (device_id, hour). The rollup job stores these; the telemetry query computes them on the fly for the
 * hours the job has not reached yet, so both read the same.
 */
export const HOURLY_AGGREGATES = sql`
  (min(mem_avail_bytes) / 1048576)::int, (avg(mem_avail_bytes) / 1048576)::int, (max(mem_avail_bytes) / 1048576)::int,
  (max(mem_total_bytes) / 1048576)::int,
  (min(storage_free_bytes) / 1048576)::int, (avg(storage_free_bytes) / 1048576)::int, (max(storage_free_bytes) / 1048576)::int,
  (max(storage_total_bytes) / 1048576)::int,
  least(max(uptime_sec), 2147483647)::int, count(*)::int,
  (count(*) filter (where battery_charging))::int, (count(*) filter (where app_running and app_foreground))::int,
  avg(battery_level)::real, min(battery_level), max(battery_level)`;

export const ROLLUP_COLUMNS = sql`mem_avail_min_mb, mem_avail_avg_mb, mem_avail_max_mb, mem_total_mb,
  storage_free_min_mb, storage_free_avg_mb, storage_free_max_mb, storage_total_mb,
  uptime_max_sec, samples, charging_samples, app_up_samples, battery_avg, battery_min, battery_max`;

/** A rollup row without its device: one hour of one device's heartbeats. */
export type HourlyRow = Omit<HeartbeatRollup, 'device_id'>;

/**
 * A device's hours from `from` to `to`: stored rollups before `rolledUpTo`, and the hours since
 * summarised from the raw heartbeats (at most a day or so of one device's rows). Oldest first.
 */
export async function listHourly(
  db: Db,
  deviceId: string,
  from: Date,
  to: Date,
  rolledUpTo: Date | null,
  limit: number,
): Promise<HourlyRow[]> {
  const edge = rolledUpTo ?? new Date(0);
  const { rows } = await sql<HourlyRow>`
    select * from (
      select hour, ${ROLLUP_COLUMNS} from heartbeat_rollups
      where device_id = ${deviceId}::uuid and hour >= date_trunc('hour', ${from}::timestamptz, 'UTC')
        and hour <= ${to}::timestamptz and hour < ${edge}::timestamptz
      union all
      select date_trunc('hour', received_at, 'UTC') as hour, ${HOURLY_AGGREGATES}
      from heartbeats
      where device_id = ${deviceId}::uuid and received_at >= greatest(${edge}::timestamptz, date_trunc('hour', ${from}::timestamptz, 'UTC'))
        and received_at <= ${to}::timestamptz
      group by 1
    ) h
    order by hour
    limit ${limit}`.execute(db);
  return rows;
}

/** The end of the newest hour the rollup job has stored (every hour before it is in heartbeat_rollups). */
export async function rolledUpTo(db: Db): Promise<Date | null> {
  return (await db.selectFrom('rollup_state').select('rolled_up_to').executeTakeFirst())?.rolled_up_to ?? null;
}
