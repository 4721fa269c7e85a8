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
/**
 * The same set, driven from the open alerts: an array computed once and probed in the primary key.
 * (Written as exists, the planner prefers scanning every device and hashing the alerts.)
 */
const alertingIds = sql`d.id = any(array(select a.device_id from alerts a where a.status = 'open'))`;
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
/**
 * Offline devices are a small set, found through device_presence's index on the last contact
 * (devices.last_seen_at holds the same value but is not indexed, so a heartbeat's update of the
 * device stays HOT: migration 0028).
 */
const offline = (t: QueryTime) =>
  sql`d.id in (select p.device_id from device_presence p where p.last_seen_at < ${t.onlineCutoff}::timestamptz)`;

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
  else if (f.status === 'alerting') parts.push(alertingIds);
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
  /** The keys read device_presence `p` (the last contact's index), joined by the device's id. */
  presence?: boolean;
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
export function segmentsOf(sort: FleetSortKey, dir: 'asc' | 'desc', status: FleetStatus, t: QueryTime, narrow = false): Segment[] {
  const segments = orderSegments(sort, dir, status, t);
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
    keys: seg.keys.map((k) =>
      k === NAME_KEY
        ? SMALL_NAME_KEY
        : k.type === 'timestamptz'
          ? { ...k, expr: sql`(${k.expr} + interval '0 seconds')` }
          : k.type === 'int'
            ? { ...k, expr: sql`(${k.expr} + 0)` }
            : k,
    ),
  };
}

function orderSegments(sort: FleetSortKey, dir: 'asc' | 'desc', status: FleetStatus, t: QueryTime): Segment[] {
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
        presence: true,
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
  // Among alerting devices: offline first, then the most alerts (the reverse when descending), then by name.
  const alertCount = sql`(select count(*)::int from alerts a where a.device_id = d.id and a.status = 'open')`;
  const sign = dir === 'asc' ? sql.raw('') : sql.raw('-');
  const alerting: Segment = {
    where: alertingIds,
    keys: [
      { expr: sql`${sign}(case when ${online(t)} then 1 else 0 end)`, type: 'int' },
      { expr: dir === 'asc' ? sql`-${alertCount}` : alertCount, type: 'int' },
      SMALL_NAME_KEY,
      ID_KEY,
    ],
    dir: 'asc',
  };
  const trouble = sql`(${appDown} or ${appFrozen(t)})`;
  return ordered([
    alerting,
    small(sql`not ${openAlert} and ${offline(t)}`),
    small(sql`not ${openAlert} and ${online(t)} and ${trouble}`),
    byName(sql`not ${openAlert} and ${online(t)} and not ${trouble}`),
  ]);
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
    from devices d ${seg.presence ? sql`join device_presence p on p.device_id = d.id` : sql``}
    where ${where} ${seg.where === null ? sql`` : sql`and ${seg.where}`} ${keyset}
    order by ${order}
    limit ${limit}`;
}

export async function segmentPage(db: Db, where: RawBuilder<unknown>, seg: Segment, after: string[] | undefined, limit: number) {
  return (await segmentStatement(where, seg, after, limit).execute(db)).rows;
}

/** How many devices the filter matches. */
export async function matchedCount(db: Db, f: FleetFilter, t: QueryTime): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from devices d where ${filterWhere(f, t)}`.execute(db);
  return rows[0]!.n;
}

/**
 * The status cards, over the whole fleet as the console's memory mode counts it: active devices,
 * online and offline, alerting, app down, and retiring or retired apart. One pass over the devices
 * (every count but alerting needs each row; an index would not save the reading) and the open alerts.
 */
export async function statusCounts(db: Db, t: QueryTime) {
  const { rows } = await sql<{ total: number; online: number; alerting: number; app_down: number; retired: number }>`
    select count(*) filter (where d.lifecycle = 'active')::int as total,
      count(*) filter (where d.lifecycle = 'active' and ${online(t)})::int as online,
      count(*) filter (where d.lifecycle <> 'active')::int as retired,
      count(*) filter (where ${appDown})::int as app_down,
      (select count(distinct a.device_id)::int from alerts a join devices d on d.id = a.device_id
        where a.status = 'open' and d.lifecycle = 'active') as alerting
    from devices d`.execute(db);
  const r = rows[0]!;
  return { total: r.total, online: r.online, offline: r.total - r.online, alerting: r.alerting, appDown: r.app_down, retired: r.retired };
}

/** Every device, whatever its lifecycle: the console chooses its mode from this. */
export async function fleetSize(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from devices`.execute(db);
  return rows[0]!.n;
}

/** The values the filter menus offer: groups, tags and versions present on active devices (versions newest first). */
export async function facetValues(db: Db) {
  const { rows } = await sql<{ kind: string; value: string }>`
    select 'group' as kind, g.name as value from device_groups g
      where exists (select 1 from devices d where d.group_id = g.id and d.lifecycle = 'active')
    union all select 'tag', t.tag from (select distinct tag from device_tags) t
    union all select 'app', v.label from (select distinct d.app_version_name
        || case when d.app_version_code is null then '' else ' (' || d.app_version_code || ')' end as label
      from devices d where d.lifecycle = 'active' and d.app_version_name is not null and d.app_version_name <> '') v
    union all select 'agent', v.agent_version from (select distinct agent_version from devices d where d.lifecycle = 'active' and agent_version <> '') v
    union all select 'android', v.android_version from (select distinct android_version from devices d where d.lifecycle = 'active' and android_version <> '') v
  `.execute(db);
  const of = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.value);
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
