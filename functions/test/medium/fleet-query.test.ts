import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterWhere, narrowSearch, segmentsOf, segmentStatement } from '../../src/fleet-view/fleet-query.repository.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp, type TestResponse } from '../helpers/app.js';
import { rowsRead } from '../helpers/plan.js';

/**
 * The fleet view's server mode: filters, orders, keyset paging and counts in SQL, checked against
 * the same fleet read whole (GET /admin/fleet) and filtered and sorted here by the console's rules.
 */
interface Doc {
  id: string;
  name: string;
  serial: string | null;
  group: string | null;
  tags: string[];
  status: string;
  lastSeenAt: string;
  battery: number | null;
  app: string;
  appVersionName: string | null;
  appVersionCode: number | null;
  agentVersion: string;
  androidVersion: string;
  openAlerts: string[];
}

const severity = (d: Doc) =>
  d.status === 'retiring' || d.status === 'retired'
    ? 4
    : d.openAlerts.length > 0
      ? 0
      : d.status === 'offline'
        ? 1
        : d.app === 'down' || d.app === 'frozen'
          ? 2
          : 3;
const APP_ORDER: Record<string, number> = { down: 0, frozen: 1, unknown: 2, running: 3 };
const byName = (a: Doc, b: Doc) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byId = (a: Doc, b: Doc) => (a.id < b.id ? -1 : 1);

/** The reference order, as docs/fleet-query.md states it. */
function reference(docs: Doc[], sort: string, dir: 'asc' | 'desc'): string[] {
  const s = dir === 'asc' ? 1 : -1;
  const cmp: Record<string, (a: Doc, b: Doc) => number> = {
    status: (a, b) =>
      s *
        (severity(a) - severity(b) ||
          Number(a.status === 'online') - Number(b.status === 'online') ||
          b.openAlerts.length - a.openAlerts.length) ||
      byName(a, b) ||
      byId(a, b),
    app: (a, b) => s * (APP_ORDER[a.app]! - APP_ORDER[b.app]!) || byName(a, b) || byId(a, b),
    name: (a, b) => s * (byName(a, b) || byId(a, b)),
    battery: (a, b) => s * ((a.battery ?? -5) - (b.battery ?? -5) || byName(a, b) || byId(a, b)),
    lastSeen: (a, b) => s * (a.lastSeenAt < b.lastSeenAt ? -1 : a.lastSeenAt > b.lastSeenAt ? 1 : byId(a, b)),
  };
  return [...docs].sort(cmp[sort]).map((d) => d.id);
}

describe.each(DB_KINDS)('the fleet query on %s', (kind) => {
  let t: TestApp;
  let viewer: string;
  let docs: Doc[];
  const get = async (path: string) => t.request('GET', path, { token: viewer });
  /** Asks again every 10 ms (up to 2 s) until the answer's `asOf` is not `asOf`: a new read ran behind the kept one. */
  const answeredAfter = async (path: string, asOf: string): Promise<TestResponse['json']> => {
    let after: TestResponse['json'] = { asOf };
    for (let i = 0; i < 200 && after.asOf === asOf; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = (await get(path)).json;
    }
    return after;
  };

  beforeAll(async () => {
    t = await createTestApp(kind);
    viewer = await t.loginAs('viewer');
    const now = t.clock.now();
    const db = t.db.db;
    await sql`insert into device_groups (name) values ('North'), ('South')`.execute(db);
    // 60 devices: names with ties, some without a name (model and serial), offline ones, app down
    // and frozen, no frame age reported, open alerts, retired ones, two sharing a serial, versions and tags.
    await sql`
      insert into devices (id, secret_hash, hmac_key_enc, group_id, name, model, manufacturer, android_version, sdk_int, serial,
        agent_version, enrolled_at, last_seen_at, state_sent_at, battery_level, battery_charging, mem_avail_bytes, mem_total_bytes,
        storage_free_bytes, storage_total_bytes, network_type, app_package, app_running, app_foreground, app_last_frame_age_ms,
        app_version_name, app_version_code, uptime_sec, lifecycle)
      select gen_random_uuid(), 'x', 'x', (select id from device_groups where name = case when g % 2 = 0 then 'North' else 'South' end),
        case when g % 9 = 0 then null else 'kiosk-' || lpad((g % 25)::text, 3, '0') end, 'tab-a8', 'Acme', (12 + g % 3)::text, 33,
        case when g in (7, 8) then 'SHARED' else 'SN' || lpad(g::text, 4, '0') end,
        case when g % 4 = 0 then '1.1.0' else '1.0.0' end, ${now}::timestamptz - interval '30 days',
        ${now}::timestamptz - case when g % 6 = 0 then interval '2 days' else (g || ' seconds')::interval end, ${now}::timestamptz,
        case when g % 10 = 0 then null else (g * 7) % 101 end, false, 1, 2, 3, 4, 'wifi',
        case when g % 11 = 0 then null else 'com.example.kiosk' end, g % 5 <> 0, true, case when g % 13 = 0 then 600000 when g % 7 = 0 then null else 100 end,
        case when g % 3 = 0 then '2.3.0' else '2.4.0' end, case when g % 3 = 0 then 230 else 240 end, 100,
        case when g in (58, 59) then 'retired' else 'active' end
      from generate_series(1, 60) g`.execute(db);
    await sql`insert into device_tags (device_id, tag) select id, 'floor-' || (abs(hashtext(id::text)) % 3) from devices`.execute(db);
    await sql`insert into alerts (device_id, kind, condition_since, opened_at)
      select id, 'app_down', ${now}::timestamptz, ${now}::timestamptz from devices where not app_running`.execute(db);
    await sql`insert into alerts (device_id, kind, condition_since, opened_at)
      select id, 'low_battery', ${now}::timestamptz, ${now}::timestamptz from devices where battery_level < 15`.execute(db);
    const all = await get('/api/v1/admin/fleet?limit=1000');
    expect(all.status).toBe(200);
    docs = all.json.items as Doc[];
    expect(docs).toHaveLength(60);
    // The fleet has every case the orders distinguish.
    for (const app of ['down', 'frozen', 'unknown', 'running']) expect(docs.some((d) => d.app === app)).toBe(true);
    expect(docs.some((d) => d.openAlerts.length > 1)).toBe(true);
    expect(docs.some((d) => d.status === 'offline' && d.openAlerts.length > 0)).toBe(true);
  });
  afterAll(() => t.close());

  /** Every page of a query, following cursors; checks each page's size. */
  async function pages(params: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await get(`/api/v1/admin/fleet/query?limit=${limit}&${params}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      ids.push(...(res.json.items as Doc[]).map((d) => d.id));
      cursor = res.json.nextCursor;
      if (cursor === null) return ids;
      expect(res.json.items).toHaveLength(limit);
    }
    throw new Error('paging did not end');
  }

  it('tells the console the fleet size and the threshold in the first answer only', async () => {
    const first = await get('/api/v1/admin/fleet?limit=10');
    expect(first.json).toMatchObject({ fleetSize: 60, serverQueryAbove: 20_000 });
    const next = await get(`/api/v1/admin/fleet?limit=10&cursor=${first.json.nextCursor}`);
    expect(next.json.fleetSize).toBeUndefined();
  });

  it('answers the console first asking for a page only if the fleet is small: a page below the threshold, the size alone above it', async () => {
    // Below the threshold (60 devices here, 20,000 by default): the page, as without the flag.
    const small = await get('/api/v1/admin/fleet?limit=10&ifSmall=true');
    expect(small.status).toBe(200);
    expect(small.json).toMatchObject({ fleetSize: 60, serverQueryAbove: 20_000 });
    expect(small.json.items).toHaveLength(10);
    expect(small.json.nextCursor).not.toBeNull();
    // Above it (an app whose threshold is 2): no page is read, only the size that sends the console
    // to its server mode. The console used to read 500 documents here and throw them away.
    const above = await createTestApp(kind, { CONSOLE_SERVER_QUERY_ABOVE: '2' });
    try {
      for (let i = 0; i < 3; i++) await above.enrollDevice({ serial: `IF-${i}` });
      const token = await above.loginAs('viewer');
      const res = await above.request('GET', '/api/v1/admin/fleet?limit=500&ifSmall=true', { token });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ items: [], nextCursor: null, fleetSize: 3, serverQueryAbove: 2 });
      // without the flag the page is read as always (other clients page through the whole fleet)
      expect((await above.request('GET', '/api/v1/admin/fleet?limit=500', { token })).json.items).toHaveLength(3);
      const bad = await above.request('GET', '/api/v1/admin/fleet?ifSmall=yes', { token });
      expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_request']);
    } finally {
      await above.close();
    }
  });

  it.each([
    ['status', 'asc'],
    ['status', 'desc'],
    ['name', 'asc'],
    ['name', 'desc'],
    ['battery', 'asc'],
    ['battery', 'desc'],
    ['app', 'asc'],
    ['app', 'desc'],
    ['lastSeen', 'asc'],
    ['lastSeen', 'desc'],
  ] as const)('orders by %s %s and pages through every device once', async (sort, dir) => {
    const active = docs.filter((d) => severity(d) < 4);
    const ids = await pages(`sort=${sort}&dir=${dir}`, 7);
    expect(ids).toEqual(reference(active, sort, dir));
  });

  it('applies every filter the console offers, and counts what it matches', async () => {
    const active = docs.filter((d) => severity(d) < 4);
    const cases: [string, (d: Doc) => boolean][] = [
      ['status=online', (d) => severity(d) < 4 && d.status === 'online'],
      ['status=offline', (d) => d.status === 'offline'],
      ['status=alerting', (d) => severity(d) < 4 && d.openAlerts.length > 0],
      ['status=app_down', (d) => severity(d) < 4 && d.app === 'down'],
      ['status=retired', (d) => severity(d) === 4],
      ['status=duplicates', (d) => severity(d) < 4 && d.serial === 'SHARED'],
      ['group=North', (d) => severity(d) < 4 && d.group === 'North'],
      ['tag=floor-1', (d) => severity(d) < 4 && d.tags.includes('floor-1')],
      ['alert=low_battery', (d) => severity(d) < 4 && d.openAlerts.includes('low_battery')],
      [`appVersion=${encodeURIComponent('2.3.0 (230)')}`, (d) => severity(d) < 4 && d.appVersionName === '2.3.0'],
      ['agentVersion=1.1.0', (d) => severity(d) < 4 && d.agentVersion === '1.1.0'],
      ['androidVersion=13', (d) => severity(d) < 4 && d.androidVersion === '13'],
      ['q=KIOSK-01', (d) => severity(d) < 4 && d.name.startsWith('kiosk-01')],
      ['q=sn003', (d) => severity(d) < 4 && (d.serial ?? '').startsWith('SN003')],
      ['q=TAB-A8%20sn', (d) => severity(d) < 4 && d.name.startsWith('tab-a8 SN')],
      ['q=%25', () => false],
      ['group=North&status=offline&agentVersion=1.0.0', (d) => d.group === 'North' && d.status === 'offline' && d.agentVersion === '1.0.0'],
    ];
    for (const [params, want] of cases) {
      const expected = docs.filter(want);
      expect(expected.length > 0 || params === 'q=%25', params).toBe(true);
      const ids = await pages(`${params}&sort=name`, 5);
      expect(ids, params).toEqual(reference(expected, 'name', 'asc'));
      const counts = await get(`/api/v1/admin/fleet/counts?${params}`);
      expect(counts.status).toBe(200);
      expect(counts.json.matched, params).toBe(expected.length);
    }
    expect(active.length).toBe(58);
  });

  it('counts the status cards as the console does', async () => {
    const active = docs.filter((d) => severity(d) < 4);
    const res = await get('/api/v1/admin/fleet/counts');
    expect(res.json).toEqual({
      matched: 58,
      total: 58,
      online: active.filter((d) => d.status === 'online').length,
      offline: active.filter((d) => d.status === 'offline').length,
      alerting: active.filter((d) => d.openAlerts.length > 0).length,
      appDown: active.filter((d) => d.app === 'down').length,
      retired: 2,
      asOf: t.clock.now().toISOString(),
    });
  });

  it('offers the filter values present', async () => {
    const res = await get('/api/v1/admin/fleet/facets');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      groups: ['North', 'South'],
      tags: [...new Set(docs.flatMap((d) => d.tags))].sort(),
      appVersions: ['2.4.0 (240)', '2.3.0 (230)'],
      agentVersions: ['1.1.0', '1.0.0'],
      androidVersions: ['14', '13', '12'],
      asOf: expect.any(String),
    });
  });

  it('keeps the alerting devices and their sort keys in step as alerts open and resolve and devices are renamed', async () => {
    const db = t.db.db;
    const now = t.clock.now();
    /** The keyed table against the open alerts and the devices, as fleet_alerting states them. */
    const drift = async () =>
      (
        await sql<{ n: number }>`
          select count(*)::int as n from (
            (select device_id, open_alerts, sort_name, group_id from fleet_alerting
             except select d.id, c.n, coalesce(d.name, d.model || coalesce(' ' || d.serial, '')), d.group_id
               from (select device_id, count(*)::int as n from alerts where status = 'open' group by device_id) c join devices d on d.id = c.device_id)
            union all
            (select d.id, c.n, coalesce(d.name, d.model || coalesce(' ' || d.serial, '')), d.group_id
               from (select device_id, count(*)::int as n from alerts where status = 'open' group by device_id) c join devices d on d.id = c.device_id
             except select device_id, open_alerts, sort_name, group_id from fleet_alerting)) x`.execute(db)
      ).rows[0]!.n;
    expect(await drift()).toBe(0);
    expect((await sql<{ n: number }>`select count(*)::int as n from fleet_alerting`.execute(db)).rows[0]!.n).toBeGreaterThan(5);
    // A device that comes to alert (two alerts in one statement), is renamed, moves group, has one resolved.
    const id = (
      await sql<{ id: string }>`
        insert into devices (id, secret_hash, hmac_key_enc, name, model, manufacturer, android_version, sdk_int, serial, agent_version,
          enrolled_at, last_seen_at, state_sent_at, battery_level, battery_charging, mem_avail_bytes, mem_total_bytes,
          storage_free_bytes, storage_total_bytes, network_type, app_package, app_running, app_foreground, uptime_sec)
        values (gen_random_uuid(), 'x', 'x', 'kiosk-000', 'tab-a8', 'Acme', '13', 33, 'SN-TEMP', '1.0.0', ${now}::timestamptz,
          ${now}::timestamptz, ${now}::timestamptz, 50, false, 1, 2, 3, 4, 'wifi', 'com.example.kiosk', false, true, 100)
        returning id`.execute(db)
    ).rows[0]!.id;
    await sql`insert into alerts (device_id, kind, condition_since, opened_at)
      values (${id}, 'app_down', ${now}::timestamptz, ${now}::timestamptz), (${id}, 'low_battery', ${now}::timestamptz, ${now}::timestamptz)`.execute(
      db,
    );
    expect(await drift()).toBe(0);
    expect((await sql<{ open_alerts: number }>`select open_alerts from fleet_alerting where device_id = ${id}`.execute(db)).rows).toEqual([
      { open_alerts: 2 },
    ]);
    await sql`update devices set name = 'aaa-first', group_id = (select id from device_groups where name = 'North') where id = ${id}`.execute(
      db,
    );
    expect(await drift()).toBe(0);
    const fresh = async () => ((await get('/api/v1/admin/fleet?limit=1000')).json.items as Doc[]).filter((d) => severity(d) < 4);
    for (const dir of ['asc', 'desc'] as const)
      expect(await pages(`sort=status&dir=${dir}`, 7)).toEqual(reference(await fresh(), 'status', dir));
    expect(await pages('group=North&sort=status', 5)).toEqual(
      reference(
        (await fresh()).filter((d) => d.group === 'North'),
        'status',
        'asc',
      ),
    );
    await sql`update alerts set status = 'resolved', resolved_at = ${now}::timestamptz where device_id = ${id} and kind = 'low_battery'`.execute(
      db,
    );
    expect(await drift()).toBe(0);
    expect(await pages('sort=status', 7)).toEqual(reference(await fresh(), 'status', 'asc'));
    await sql`update alerts set status = 'resolved', resolved_at = ${now}::timestamptz where device_id = ${id}`.execute(db);
    expect((await sql`select 1 from fleet_alerting where device_id = ${id}`.execute(db)).rows).toEqual([]);
    await sql`delete from alerts where device_id = ${id}`.execute(db);
    await sql`delete from devices where id = ${id}`.execute(db);
    expect(await drift()).toBe(0);
  });

  it('keeps the status cards for 5 s, answers an older count at once while counting again, and counts any other filter now', async () => {
    const db = t.db.db;
    const before = (await get('/api/v1/admin/fleet/counts')).json;
    const north = (await get('/api/v1/admin/fleet/counts?group=North')).json.matched as number;
    // One active device of North retires: the cards (and a card alone's matched) wait, a group's matched does not.
    const id = docs.find((d) => severity(d) < 4 && d.group === 'North')!.id;
    await sql`update devices set lifecycle = 'retired' where id = ${id}`.execute(db);
    try {
      expect((await get('/api/v1/admin/fleet/counts')).json).toEqual(before);
      expect((await get('/api/v1/admin/fleet/counts?status=retired')).json.matched).toBe(before.retired);
      expect((await get('/api/v1/admin/fleet/counts?group=North')).json.matched).toBe(north - 1);
      // 6 s on: the old count is answered at once, and a new one runs behind it.
      t.clock.advance(6000);
      expect((await get('/api/v1/admin/fleet/counts')).json).toEqual(before);
      const after = await answeredAfter('/api/v1/admin/fleet/counts', before.asOf);
      expect(after).toMatchObject({
        total: before.total - 1,
        retired: before.retired + 1,
        matched: before.total - 1,
        asOf: t.clock.now().toISOString(),
      });
      // Over a minute on, the count is not answered old: the request waits for a new one.
      await sql`update devices set lifecycle = 'active' where id = ${id}`.execute(db);
      t.clock.advance(61_000);
      expect((await get('/api/v1/admin/fleet/counts')).json).toEqual({ ...before, asOf: t.clock.now().toISOString() });
    } finally {
      await sql`update devices set lifecycle = 'active' where id = ${id}`.execute(db);
    }
  });

  it('keeps the filter values for a minute, then answers them at once while reading them again', async () => {
    const db = t.db.db;
    // Over 10 minutes since the last read: this one waits for a new read.
    t.clock.advance(11 * 60_000);
    const before = (await get('/api/v1/admin/fleet/facets')).json;
    expect(before.asOf).toBe(t.clock.now().toISOString());
    await sql`update devices set agent_version = '9.9.9' where id = ${docs[0]!.id}`.execute(db);
    try {
      expect((await get('/api/v1/admin/fleet/facets')).json).toEqual(before);
      t.clock.advance(61_000);
      expect((await get('/api/v1/admin/fleet/facets')).json).toEqual(before);
      const after = await answeredAfter('/api/v1/admin/fleet/facets', before.asOf);
      expect(after.agentVersions[0]).toBe('9.9.9');
      expect(after.asOf).toBe(t.clock.now().toISOString());
    } finally {
      await sql`update devices set agent_version = ${docs[0]!.agentVersion} where id = ${docs[0]!.id}`.execute(db);
    }
  });

  it('refuses bad orders, filters, limits and cursors with a 400 and a code', async () => {
    const first = await get('/api/v1/admin/fleet/query?limit=5&sort=battery');
    const cursor = first.json.nextCursor as string;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { k: string[] };
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const q of [
      'sort=colour',
      'dir=up',
      'status=lost',
      'alert=DROP%20TABLE',
      'limit=0',
      'limit=501',
      `q=${'x'.repeat(101)}`,
      'cursor=nonsense',
      `cursor=${cursor}&sort=name`,
      `cursor=${cursor}&sort=battery&dir=desc`,
      `sort=battery&cursor=${forge({ ...decoded, s: 9 })}`,
      `sort=battery&cursor=${forge({ ...decoded, k: ['x', 'a', decoded.k[2]] })}`,
      `sort=battery&cursor=${forge({ ...decoded, k: [decoded.k[0], 'a', 'not-a-uuid'] })}`,
      `sort=battery&cursor=${forge({ ...decoded, k: decoded.k.slice(1) })}`,
    ]) {
      const res = await get(`/api/v1/admin/fleet/query?${q}`);
      expect(res.status, q).toBe(400);
      expect(typeof res.json.error.code, q).toBe('string');
    }
    expect((await get('/api/v1/admin/fleet/query?sort=battery&cursor=nonsense')).json.error.code).toBe('invalid_cursor');
    expect((await t.request('GET', '/api/v1/admin/fleet/query')).status).toBe(401);
    expect((await t.request('GET', '/api/v1/admin/fleet/counts')).status).toBe(401);
  });

  it.runIf(kind === 'postgres')('reads the first page of each order through an index, never scanning every device', async () => {
    const db = t.db.db;
    const now = t.clock.now();
    // Enough devices that a scan would cost more than the index (the planner's choice on real statistics).
    await sql`
      insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, serial, agent_version,
        enrolled_at, last_seen_at, state_sent_at, battery_level, battery_charging, mem_avail_bytes, mem_total_bytes,
        storage_free_bytes, storage_total_bytes, network_type, app_package, app_running, app_foreground, uptime_sec)
      select gen_random_uuid(), 'x', 'x', 'Tab A8', 'Acme', '13', 33, 'BULK' || lpad(g::text, 6, '0'), '1.0.0',
        ${now}::timestamptz - interval '30 days', ${now}::timestamptz - (g % 600 || ' seconds')::interval, ${now}::timestamptz,
        g % 100, false, 1, 2, 3, 4, 'wifi', 'com.example.kiosk', g % 50 <> 0, true, 100
      from generate_series(1, 50000) g`.execute(db);
    // A thousand of them alert (online, their app down).
    await sql`insert into alerts (device_id, kind, condition_since, opened_at)
      select id, 'app_down', ${now}::timestamptz, ${now}::timestamptz from devices where serial like 'BULK%' and not app_running`.execute(
      db,
    );
    // Their alerting thousand in two big sites, and a third site with none: the walk over the fleet's
    // alerting devices in order, dropping other sites' rows, would read all of them for the third.
    await sql`insert into device_groups (name) values ('Bulk A'), ('Bulk B'), ('Bulk C')`.execute(db);
    await sql`update devices set group_id = (select id from device_groups where name =
        case when not app_running then (case when right(serial, 1) < '5' then 'Bulk A' else 'Bulk B' end) else 'Bulk C' end)
      where serial like 'BULK%'`.execute(db);
    await sql`analyze devices`.execute(db);
    await sql`analyze alerts`.execute(db);
    await sql`analyze device_presence`.execute(db);
    await sql`analyze fleet_alerting`.execute(db);
    const t0 = { onlineCutoff: new Date(now.getTime() - 720_000), frozenAfterMs: 30_000 };
    const plans: string[] = [];
    for (const [sort, dir, status] of [
      ['status', 'asc', ''],
      ['status', 'desc', ''],
      ['name', 'asc', ''],
      ['name', 'desc', 'online'],
      ['battery', 'asc', ''],
      ['lastSeen', 'desc', ''],
      ['app', 'asc', ''],
    ] as const) {
      const where = filterWhere({ status }, t0);
      const segments = segmentsOf(sort, dir, status, t0);
      for (const [i, seg] of segments.entries()) {
        const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${segmentStatement(where, seg, undefined, 101)}`.execute(db);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        plans.push(plan);
        expect(plan, `${sort} ${dir}:\n${plan}`).not.toMatch(/Seq Scan on devices/);
        // The small segments of the default order (alerting offline and online, offline, app trouble)
        // never walk the name index (an empty one would walk it whole); the alerting ones walk their keyed
        // table and probe the primary key.
        if (sort === 'status' && dir === 'asc' && i < 4) expect(plan, `segment ${i}:\n${plan}`).not.toMatch(/devices_sort_name_idx/);
        if (sort === 'status' && dir === 'asc' && i === 0) expect(plan).toMatch(/fleet_alerting/);
        // offline devices and the order by last contact: device_presence's index (devices.last_seen_at
        // is not indexed, so that a heartbeat's update stays HOT: migration 0028)
        if ((sort === 'status' && dir === 'asc' && i === 2) || sort === 'lastSeen') expect(plan, plan).toMatch(/device_presence_seen_idx/);
      }
    }
    // The alerting segments read about as many devices as they return: the online ones are checked
    // against the offline ids before any device is read, a group is filtered in the keyed table, and a
    // status card skips the segments it rules out (before, each read every alerting device: 1,000+).
    // Counted: device rows read for the segment (alias d), not the offline ids' index read.
    const devicesRead = rowsRead(
      (node) =>
        node['Relation Name'] === 'devices' &&
        node.Alias === 'd' &&
        ['Index Scan', 'Bitmap Heap Scan', 'Seq Scan'].includes(node['Node Type'] as string),
    );
    const keyedRead = rowsRead((node) => node['Relation Name'] === 'fleet_alerting');
    for (const [label, filter, most] of [
      ['default order', { status: '' }, 101 + 30],
      ['group North', { status: '', group: 'North' }, 30],
      ['group Bulk C (no alerting device)', { status: '', group: 'Bulk C' }, 30],
      ['Online card', { status: 'online' }, 101 + 30],
      ['Offline card', { status: 'offline' }, 101 + 30],
    ] as const) {
      const segments = segmentsOf('status', 'asc', filter.status, t0, false, 'group' in filter ? filter.group : undefined);
      expect(segments[0]!.empty ?? false, label).toBe(filter.status === 'online');
      expect(segments[1]!.empty ?? false, label).toBe(filter.status === 'offline');
      const where = filterWhere({ ...filter, group: undefined }, t0);
      for (const seg of segments.slice(0, 2).filter((x) => !x.empty)) {
        const { rows } = await db.transaction().execute(async (trx) => {
          await sql`set local work_mem = '64MB'`.execute(trx);
          return sql<{
            'QUERY PLAN': [{ Plan: Record<string, unknown> }];
          }>`explain (analyze, format json) ${segmentStatement(where, seg, undefined, 101)}`.execute(trx);
        });
        const plan = rows[0]!['QUERY PLAN'][0].Plan;
        expect(devicesRead(plan), `${label}: ${JSON.stringify(plan)}`).toBeLessThanOrEqual(most);
        // A group's alerting segments read the group's keyed rows alone (0030: indexes led by the group),
        // not the fleet's 1,000+ alerting devices filtered by group.
        if ('group' in filter) expect(keyedRead(plan), `${label}: ${JSON.stringify(plan)}`).toBeLessThanOrEqual(30);
        expect(JSON.stringify(plan), label).not.toMatch(/Seq Scan","Parallel Aware":\w+,"Async Capable":\w+,"Relation Name":"devices"/);
      }
    }
    // A search reads the prefix indexes and never walks an order's index, in every segment of every order.
    const where = filterWhere({ status: '', q: 'bulk0001' }, t0);
    for (const sort of ['status', 'name', 'battery', 'lastSeen', 'app'] as const) {
      for (const seg of segmentsOf(sort, 'asc', '', t0, narrowSearch('bulk0001'))) {
        const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${segmentStatement(where, seg, undefined, 101)}`.execute(db);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        // (A smaller segment's own index may serve instead: the frozen devices, say.)
        if (sort === 'name') expect(plan, plan).toMatch(/devices_search_(name|serial)_idx/);
        expect(plan, plan).not.toMatch(/Seq Scan on devices/);
        expect(plan, plan).not.toMatch(/Index Scan (Backward )?using (devices_(sort_name|battery_sort)|device_presence_seen)_idx/);
      }
    }
  });
});
