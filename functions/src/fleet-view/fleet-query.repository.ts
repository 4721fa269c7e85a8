import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../ports/db.js';

/**
 * The fleet view's server mode (docs/fleet-query.md): filtering, sorting and keyset paging of the
 * fleet in SQL, for fleets too big to hold in the browser. The same filters and orders as the
 * console's in-memory mode (web/src/lib/fleet-query.ts), each page one index-friendly statement.
 *
 * An order is a list of segments walked one after the other: the default severity order is
 * "alerting, then offline, then app down or frozen, then the rest", and each segment is a plain
 * keyset over its own keys (ending with the name and the id), so the big last segment is read
 * straight off the name index and stops after a page. The small trouble segments are sorted whole.
 */

/** The name the console shows and sorts by (a device without a name: its model and serial); indexed as written (0026). */
export const SORT_NAME = sql.raw(`coalesce(d.name, d.model || coalesce(' ' || d.serial, ''))`);

export type FleetStatus = '' | 'online' | 'offline' | 'alerting' | 'app_down' | 'retired' | 'duplicates';
export type FleetSortKey = 'status' | 'name' | 'battery' | 'app' | 'lastSeen';

export interface FleetFilter {
  q?: string | undefined;
  status: FleetStatus;
  group?: string | undefined;
  tag?: string | undefined;
  alert?: string | undefined;
  /** The label the console shows: "2.3.0 (230)", or "2.3.0" without a version code. */
  appVersion?: string | undefined;
  agentVersion?: string | undefined;
  androidVersion?: string | undefined;
}

/** What a filter and an order need to know of the moment: the offline cutoff and the frozen threshold. */
export interface QueryTime {
  onlineCutoff: Date;
  frozenAfterMs: number;
}

const openAlert = sql`exists (select 1 from alerts a where a.device_id = d.id and a.status = 'open')`;
/** The same set, from the alerting devices' keyed table (0029): a primary-key probe per device read. */
const alerting = sql`exists (select 1 from fleet_alerting ad2 where ad2.device_id = d.id)`;
/**
 * The devices whose app is down or frozen and that do not alert, as an array computed once from the
 * two partial indexes and the alerting devices' keyed table, then probed in the primary key: most
 * devices whose app is down alert (the sweep raises app_down), and without it a page of the Online card
 * would read every one of them to learn that it is offline or alerting.
 */
const troubleNotAlerting = (t: QueryTime) => sql`d.id = any(array(
    select d.id from devices d where ${appDown} and d.id not in (select ad3.device_id from fleet_alerting ad3)
    union all select d.id from devices d where ${appFrozen(t)} and d.id not in (select ad3.device_id from fleet_alerting ad3)))`;
// Each written as its partial index (0026) states it, so the planner reads the small set from it, and
// each true or false, never null (a null inside `not (a or b)` would drop the row from every segment).
const appDown = sql`(d.lifecycle = 'active' and d.app_package is not null and not coalesce(d.app_running and d.app_foreground, false))`;
// The frozen threshold is a second or more (alert settings), so a frozen app's frame age in whole
// seconds (a stored column, 0 while the app draws: 0028) is above 0, as the partial index states it.
const appFrozen = (t: QueryTime) =>
  sql`(d.lifecycle = 'active' and d.app_package is not null and coalesce(d.app_running and d.app_foreground, false)
    and d.app_frame_age_sec > 0 and d.app_last_frame_age_ms is not null and d.app_last_frame_age_ms > ${t.frozenAfterMs}::int)`;
const appUnknown = sql`(d.lifecycle = 'active' and d.app_package is null)`;
const online = (t: QueryTime) => sql`d.last_seen_at >= ${t.onlineCutoff}::timestamptz`;
/** Offline, checked on a device row read anyway (through another index: a group's, the alerting table's). */
const offline = (t: QueryTime) => sql`d.last_seen_at < ${t.onlineCutoff}::timestamptz`;
/**
 * Offline devices found through device_presence's index on the last contact (devices.last_seen_at
 * holds the same value but is not indexed, so a heartbeat's update of the device stays HOT: migration
 * 0028; a group's offline devices are one range of its (group_id, last_seen_at) index): how the
 * offline segment is read.
 */
const offlineIds = (t: QueryTime, group?: string) =>
  group
    ? sql`d.id in (select p.device_id from device_presence p
        where p.group_id = (select id from device_groups where name = ${group}) and p.last_seen_at < ${t.onlineCutoff}::timestamptz)`
    : sql`d.id in (select p.device_id from device_presence p where p.last_seen_at < ${t.onlineCutoff}::timestamptz)`;

/** "2.3.0 (230)" -> name and code; "2.3.0" -> name without a code. */
export function parseAppVersion(label: string): { name: string; code: number | null } {
  const m = /^(.*) \((\d{1,9})\)$/.exec(label);
  return m ? { name: m[1]!, code: Number(m[2]) } : { name: label, code: null };
}

/** A LIKE prefix pattern matching `q` literally, lower-cased. */
export const prefixPattern = (q: string) => `${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The filter as a where clause over `devices d`. */
export function filterWhere(f: FleetFilter, t: QueryTime): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [f.status === 'retired' ? sql`d.lifecycle <> 'active'` : sql`d.lifecycle = 'active'`];
  if (f.status === 'online') parts.push(online(t));
  else if (f.status === 'offline') parts.push(offline(t));
  else if (f.status === 'alerting') parts.push(alerting);
  else if (f.status === 'app_down') parts.push(appDown);
  else if (f.status === 'duplicates')
    parts.push(sql`d.serial is not null and lower(d.serial) <> 'unknown'
      and exists (select 1 from devices o where o.serial = d.serial and o.id <> d.id and o.lifecycle = 'active')`);
  if (f.group) parts.push(sql`d.group_id = (select id from device_groups where name = ${f.group})`);
  if (f.tag) parts.push(sql`exists (select 1 from device_tags t where t.device_id = d.id and t.tag = ${f.tag})`);
  if (f.alert) parts.push(sql`exists (select 1 from alerts a where a.device_id = d.id and a.status = 'open' and a.kind = ${f.alert})`);
  if (f.appVersion) {
    const v = parseAppVersion(f.appVersion);
    parts.push(
      v.code === null
        ? sql`d.app_version_name = ${v.name} and d.app_version_code is null`
        : sql`d.app_version_name = ${v.name} and d.app_version_code = ${v.code}`,
    );
  }
  if (f.agentVersion) parts.push(sql`d.agent_version = ${f.agentVersion}`);
  if (f.androidVersion) parts.push(sql`d.android_version = ${f.androidVersion}`);
  const q = f.q?.trim();
  if (q) {
    const p = prefixPattern(q);
    parts.push(sql`(lower(${SORT_NAME}) like ${p} or lower(d.serial) like ${p})`);
  }
  return sql.join(parts, sql` and `);
}

/** A key of a segment's order: how it is computed, and the type its cursor value is cast back to. */
interface Key {
  expr: RawBuilder<unknown>;
  type: 'int' | 'text' | 'uuid' | 'timestamptz';
}
export interface Segment {
  where: RawBuilder<unknown> | null;
  keys: Key[];
  dir: 'asc' | 'desc';
  /** What the segment reads, `devices d` unless said (the alerting ones: their keyed table, then the devices). */
  from?: RawBuilder<unknown>;
  /** A segment the status filter rules out: never read (it stays in the list so cursors keep their segment numbers). */
  empty?: true;
  /** Its statement hashes a set that may be large (the offline devices' ids): run with room for the hash. */
  bigHash?: true;
  /** An alerting segment: its rows are alerting devices already (the Alerting card's filter is not repeated). */
  alerting?: true;
}

const NAME_KEY: Key = { expr: SORT_NAME, type: 'text' };
const ID_KEY: Key = { expr: sql.raw('d.id'), type: 'uuid' };
/**
 * A small segment (alerting, offline, app trouble) is found through its own index and sorted whole:
 * its name key is written so that it does not match the name index, or the planner might walk that
 * index past every device looking for a few (or, for an empty segment, for none).
 */
const SMALL_NAME_KEY: Key = { expr: sql`(${SORT_NAME} || '')`, type: 'text' };
const byName = (where: RawBuilder<unknown> | null): Segment => ({ where, keys: [NAME_KEY, ID_KEY], dir: 'asc' });
const small = (where: RawBuilder<unknown>): Segment => ({ where, keys: [SMALL_NAME_KEY, ID_KEY], dir: 'asc' });

/**
 * The segments of an order. Ties break by name, then id, as in the console's memory mode; an order
 * by last contact breaks ties by id alone (device_presence's (last_seen_at, device_id) index serves it both ways).
 */
export function segmentsOf(
  sort: FleetSortKey,
  dir: 'asc' | 'desc',
  status: FleetStatus,
  t: QueryTime,
  narrow = false,
  group?: string,
): Segment[] {
  const segments = orderSegments(sort, dir, status, t, group);
  return narrow ? segments.map(sortedWhole) : segments;
}

/** A search of three characters or more: few devices match, so they are found through the search indexes. */
export const narrowSearch = (q: string | undefined) => (q?.trim().length ?? 0) >= 3;

/**
 * The segment with no key matching an index, so its rows are found through the filter's indexes (a
 * search) and sorted, rather than by walking an order's index past every device looking for a few.
 */
function sortedWhole(seg: Segment): Segment {
  return {
    ...seg,
    ...(seg.alerting ? { from: ALERTING_JOIN } : {}),
    keys: seg.keys.map((k) =>
      k === NAME_KEY
        ? SMALL_NAME_KEY
        : k.type === 'text' && k !== SMALL_NAME_KEY
          ? { ...k, expr: sql`(${k.expr} || '')` }
          : k.type === 'timestamptz'
            ? { ...k, expr: sql`(${k.expr} + interval '0 seconds')` }
            : k.type === 'int'
              ? { ...k, expr: sql`(${k.expr} + 0)` }
              : k,
    ),
  };
}

function orderSegments(sort: FleetSortKey, dir: 'asc' | 'desc', status: FleetStatus, t: QueryTime, group: string | undefined): Segment[] {
  const ordered = (s: Segment[]) => (dir === 'asc' ? s : s.reverse());
  if (sort === 'name') return [{ where: null, keys: [NAME_KEY, ID_KEY], dir }];
  if (sort === 'lastSeen')
    return [
      {
        where: null,
        keys: [
          { expr: sql.raw('p.last_seen_at'), type: 'timestamptz' },
          { expr: sql.raw('p.device_id'), type: 'uuid' },
        ],
        dir,
        // the last contact's index is device_presence's (devices.last_seen_at is not indexed: 0028)
        from: sql`devices d join device_presence p on p.device_id = d.id`,
      },
    ];
  if (sort === 'battery') return [{ where: null, keys: [{ expr: sql.raw('d.battery_step'), type: 'int' }, NAME_KEY, ID_KEY], dir }];
  if (sort === 'app') {
    // down, frozen, no report, running: the console's APP_ORDER.
    const running = sql`(d.app_package is not null and not ${appDown} and not ${appFrozen(t)})`;
    return ordered([small(appDown), small(appFrozen(t)), small(appUnknown), byName(running)]);
  }
  // Severity. Retiring and retired devices are all of one severity: by name.
  if (status === 'retired') return [byName(null)];
  const trouble = sql`(${appDown} or ${appFrozen(t)})`;
  // A segment the status card rules out is never read: the Online card reads no offline segment, and so on.
  const unless = (ruledOut: boolean, seg: Segment): Segment => (ruledOut ? { ...seg, where: sql`false`, empty: true } : seg);
  return ordered([
    unless(status === 'online', alertingSegment(dir, 'offline', t, group)),
    unless(status === 'offline', alertingSegment(dir, 'online', t, group)),
    unless(status === 'online' || status === 'alerting', small(sql`not ${openAlert} and ${offlineIds(t, group)}`)),
    unless(status === 'offline' || status === 'alerting', {
      ...small(sql`not ${openAlert} and ${online(t)} and ${trouble} and ${troubleNotAlerting(t)}`),
      bigHash: true,
    }),
    unless(
      status === 'offline' || status === 'alerting' || status === 'app_down',
      byName(sql`not ${openAlert} and ${online(t)} and not ${trouble}`),
    ),
  ]);
}

/**
 * The alerting devices, offline ones or online ones (offline first in ascending order): read from
 * their keyed table (migration 0029: one row per alerting device with its open-alert count, sort name
 * and group), walking its index in the segment's order - most alerts first, then by name, ascending;
 * fewest first, then by name, descending - and probing each device's row only for what the table
 * lacks (lifecycle, last contact, the other filters). A page reads about as many devices as it shows,
 * and the group filter is applied to the table before any device is read.
 *
 * Online ones are usually few among the alerting ones (devices that stop heartbeating alert): before
 * any device is probed, the table's rows are checked against the ids of the offline devices, read from
 * device_presence's last-contact index as one hashed set, so the Online card does not probe every alerting device to
 * find the few that are online.
 */
/**
 * The alerting segments' rows: the keyed table walked in order, each row's device read by its id (a
 * lateral read the planner cannot turn around: as a plain join it would rather start from the devices
 * a filter names, the group's or the offline ones, thousands of rows, to find the few that alert).
 */
const ALERTING_WALK = sql`fleet_alerting ad cross join lateral (select * from devices d where d.id = ad.device_id offset 0) d`;
/** The same as a join, for a search narrowed to its ids: there the planner starts from those ids. */
const ALERTING_JOIN = sql`fleet_alerting ad join devices d on d.id = ad.device_id`;

function alertingSegment(dir: 'asc' | 'desc', which: 'online' | 'offline', t: QueryTime, group: string | undefined): Segment {
  const count: Key = dir === 'asc' ? { expr: sql.raw('(-ad.open_alerts)'), type: 'int' } : { expr: sql.raw('ad.open_alerts'), type: 'int' };
  // (checked on the device's row, already read: not the offline set, which would be hashed whole)
  const parts: RawBuilder<unknown>[] = [which === 'online' ? online(t) : offline(t)];
  const inGroup = group ? sql`ad.group_id = (select id from device_groups where name = ${group})` : undefined;
  if (inGroup) parts.push(inGroup);
  // Online ones are checked against the offline ids before any device is read. (Offline ones are not:
  // alerting devices are mostly offline ones, the walk finds a page at once, and hashing every offline
  // id would cost more than it saves.)
  const check =
    which === 'online'
      ? sql`ad.device_id not in (select p.device_id from device_presence p where p.last_seen_at < ${t.onlineCutoff}::timestamptz)`
      : undefined;
  // The group first (the planner orders plain conditions by its own costs): a keyed row of another
  // group is dropped before the offline ids are read and hashed.
  if (check) parts.push(inGroup ? sql`(case when ${inGroup} then ${check} else false end)` : check);
  return {
    from: ALERTING_WALK,
    where: sql.join(parts, sql` and `),
    keys: [count, { expr: sql.raw('ad.sort_name'), type: 'text' }, { expr: sql.raw('ad.device_id'), type: 'uuid' }],
    dir: 'asc',
    alerting: true,
    ...(check ? { bigHash: true as const } : {}),
  };
}

const cast = (v: string, type: Key['type']) =>
  type === 'int' ? sql`${v}::int` : type === 'uuid' ? sql`${v}::uuid` : type === 'timestamptz' ? sql`${v}::timestamptz` : sql`${v}::text`;

/** A key's value as the cursor keeps it: text that casts back exactly (timestamps with their microseconds). */
const keyText = (k: Key) => (k.type === 'timestamptz' ? sql`to_json(${k.expr}) #>> '{}'` : sql`(${k.expr})::text`);

/** A cursor value is a string the key's type reads; anything else is the client's error, not the database's. */
export function validKeyValues(seg: Segment, values: unknown): values is string[] {
  if (!Array.isArray(values) || values.length !== seg.keys.length) return false;
  return seg.keys.every((k, i) => {
    const v: unknown = values[i];
    if (typeof v !== 'string' || v.length > 1000 || v.includes('\u0000')) return false;
    if (k.type === 'int') return /^-?\d{1,9}$/.test(v);
    if (k.type === 'uuid') return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
    if (k.type === 'timestamptz') return !Number.isNaN(Date.parse(v));
    return true;
  });
}

/** The statement that reads one segment's next rows: ids and their key values, in order. */
export function segmentStatement(where: RawBuilder<unknown>, seg: Segment, after: string[] | undefined, limit: number) {
  const exprs = sql.join(seg.keys.map((k) => k.expr));
  const keyset =
    after === undefined
      ? sql``
      : sql`and (${exprs}) ${sql.raw(seg.dir === 'asc' ? '>' : '<')} (${sql.join(seg.keys.map((k, i) => cast(after[i]!, k.type)))})`;
  const order = sql.join(seg.keys.map((k) => sql`${k.expr} ${sql.raw(seg.dir)}`));
  return sql<{ id: string; sort_key: string[] }>`
    select d.id, array[${sql.join(seg.keys.map(keyText))}] as sort_key
    from ${seg.from ?? sql`devices d`}
    where ${where} ${seg.where === null ? sql`` : sql`and ${seg.where}`} ${keyset}
    order by ${order}
    limit ${limit}`;
}

export async function segmentPage(db: Db, where: RawBuilder<unknown>, seg: Segment, after: string[] | undefined, limit: number) {
  if (seg.empty) return [];
  const statement = segmentStatement(where, seg, after, limit);
  if (!seg.bigHash) return (await statement.execute(db)).rows;
  // Room to hash the offline devices' ids (a million devices, half offline: ~30 MB), or the planner
  // would check each row against the whole list instead.
  return db.transaction().execute(async (trx) => {
    await sql`set local work_mem = '64MB'`.execute(trx);
    return (await statement.execute(trx)).rows;
  });
}

/**
 * The devices a narrow filter (a search of three characters or more) matches, up to `cap`, read through
 * its own indexes: with a few hundred at most, each segment then probes those ids alone instead of
 * letting the planner combine the search with an index of the segment's own conditions.
 */
export async function matchingIds(db: Db, where: RawBuilder<unknown>, cap: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select d.id from devices d where ${where} limit ${cap}`.execute(db);
  return rows.map((r) => r.id);
}

/** The filter narrowed to these devices. */
export const amongIds = (where: RawBuilder<unknown>, ids: readonly string[]) => sql`${where} and d.id = any(${ids}::uuid[])`;

/** A search matching at most this many devices has each segment read those ids alone. */
export const NARROW_IDS = 1000;

/**
 * The where clauses a page's segments read with: the filter, and for the alerting segments the filter
 * without the Alerting card and the group (their keyed table applies those: repeated over the devices,
 * the planner would start from them). A search of three characters or more is narrowed to the ids it
 * matches, read once (`null`: it matches nothing).
 */
export async function pageWheres(db: Db, f: FleetFilter, t: QueryTime) {
  const where = filterWhere(f, t);
  const alertingWhere = filterWhere({ ...f, status: f.status === 'alerting' ? '' : f.status, group: undefined }, t);
  if (!narrowSearch(f.q)) return { where, alertingWhere };
  const ids = await matchingIds(db, where, NARROW_IDS + 1);
  if (ids.length === 0) return null;
  if (ids.length > NARROW_IDS) return { where, alertingWhere };
  return { where: amongIds(where, ids), alertingWhere: amongIds(alertingWhere, ids) };
}

/** How many devices the filter matches. */
export async function matchedCount(db: Db, f: FleetFilter, t: QueryTime): Promise<number> {
  const groupAlone =
    f.group && f.status === '' && !f.q?.trim() && !f.tag && !f.alert && !f.appVersion && !f.agentVersion && !f.androidVersion;
  if (groupAlone) {
    // The group's devices off the group index, less its retiring and retired ones off their partial
    // index (0029): no device row read where the table's pages are all visible.
    const group = sql`(select id from device_groups where name = ${f.group})`;
    const { rows } = await sql<{ n: number }>`
      select ((select count(*) from devices d where d.group_id = ${group})
        - (select count(*) from devices d where d.group_id = ${group} and d.lifecycle <> 'active'))::int as n`.execute(db);
    return rows[0]!.n;
  }
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from devices d where ${filterWhere(f, t)}`.execute(db);
  return rows[0]!.n;
}

/**
 * The status cards, over the whole fleet as the console's memory mode counts it: active devices,
 * online and offline, alerting, app down, and retiring or retired apart. One pass over the devices
 * (every count needs each row; an index would not save the reading), the alerting ones hashed from
 * their keyed table (0029) rather than probed one by one.
 */
export async function statusCounts(db: Db, t: QueryTime) {
  const { rows } = await sql<{ total: number; online: number; alerting: number; app_down: number; retired: number }>`
    select count(*) filter (where d.lifecycle = 'active')::int as total,
      count(*) filter (where d.lifecycle = 'active' and ${online(t)})::int as online,
      count(*) filter (where d.lifecycle <> 'active')::int as retired,
      count(*) filter (where ${appDown})::int as app_down,
      count(ad.device_id) filter (where d.lifecycle = 'active')::int as alerting
    from devices d left join fleet_alerting ad on ad.device_id = d.id`.execute(db);
  const r = rows[0]!;
  return { total: r.total, online: r.online, offline: r.total - r.online, alerting: r.alerting, appDown: r.app_down, retired: r.retired };
}

/** Every device, whatever its lifecycle, counted up to `cap` (reads at most `cap` rows): exact below it. */
export async function fleetSizeUpTo(db: Db, cap: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from (select 1 from devices limit ${cap}) d`.execute(db);
  return rows[0]!.n;
}

/** PostgreSQL's estimate of the devices (its statistics, as of the last vacuum or analyze); 0 when it has none. */
export async function fleetSizeEstimate(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select greatest(coalesce(max(reltuples), 0), 0)::bigint::int as n from pg_class where oid = 'devices'::regclass`.execute(db);
  return rows[0]!.n;
}

/**
 * The values the filter menus offer: groups, tags and versions present on active devices (versions
 * newest first). Groups are probed in the group index one by one, tags read off their index as a skip
 * scan (one descent per distinct tag), and the three versions come from one pass over the devices
 * grouped by the combination (a few rows), not three.
 */
export async function facetValues(db: Db) {
  const { rows } = await sql<{ kind: string; value: string }>`
    select 'group' as kind, g.name as value from device_groups g
      where exists (select 1 from devices d where d.group_id = g.id and d.lifecycle = 'active')
    union all select 'tag', t.tag from (
      with recursive t(tag) as (
        select min(tag) from device_tags
        union all select (select min(x.tag) from device_tags x where x.tag > t.tag) from t where t.tag is not null)
      select tag from t where tag is not null) t
    union all select v.kind, v.value from (
      select d.app_version_name, d.app_version_code, d.agent_version, d.android_version from devices d where d.lifecycle = 'active'
      group by d.app_version_name, d.app_version_code, d.agent_version, d.android_version) c
      cross join lateral (values
        ('app', case when c.app_version_name <> '' then c.app_version_name
          || case when c.app_version_code is null then '' else ' (' || c.app_version_code || ')' end end),
        ('agent', nullif(c.agent_version, '')),
        ('android', nullif(c.android_version, ''))) v(kind, value)
      where v.value is not null
  `.execute(db);
  const of = (kind: string) => [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.value))];
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  const sorted = (xs: string[]) => xs.sort(collator.compare);
  return {
    groups: sorted(of('group')),
    tags: sorted(of('tag')),
    appVersions: sorted(of('app')).reverse(),
    agentVersions: sorted(of('agent')).reverse(),
    androidVersions: sorted(of('android')).reverse(),
  };
}
