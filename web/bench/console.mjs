// `npm run bench:console -w web`: the fleet view in headless Chromium, 10,000 devices by default.
// Seeds a scratch PostgreSQL database (BENCH_PG_URL, default the local server) with --devices devices
// (generate_series, straight into PostgreSQL: 1,000,000 take a few minutes), starts the real standalone
// server on it serving the real console build, signs in and measures:
//   - time to first render: navigation start to the first device row on screen, and to "Showing N of M"
//     final (memory mode: every device loaded; server mode: the counts from SQL shown);
//   - memory mode (up to CONSOLE_SERVER_QUERY_ABOVE devices, 20,000 by default): scroll frame times,
//     and live updates: 100 heartbeats a second (each a visible change) for 10 s, frame times meanwhile,
//     and how long after the last heartbeat the screen shows every final value;
//   - server mode (above it): how long a filter change, a search and a sort take to show their rows,
//     and scroll frame times over the first 5,000 rows (windows fetched as it scrolls).
// Prints one JSON object; nothing here is a pass/fail assertion.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    live: { type: 'string', default: '200' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    pg: { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEVICES = Number(args.devices);
const LIVE = Math.min(Number(args.live), DEVICES);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const SECRET = 'bench-device-secret';
const ADMIN = { email: 'bench@example.com', password: 'console bench password' };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const withDb = (url, name) => Object.assign(new URL(url), { pathname: `/${name}` }).toString();
async function adminQuery(sql) {
  const c = new pg.Client({ connectionString: args.pg });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10 : null;
};
const frameStats = (frames) => ({
  frames: frames.length,
  p50Ms: pct(frames, 50),
  p95Ms: pct(frames, 95),
  p99Ms: pct(frames, 99),
  maxMs: Math.round(Math.max(...frames) * 10) / 10,
  over50Ms: frames.filter((f) => f > 50).length,
});
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function seed(url) {
  const hash = await bcrypt.hash(SECRET, 4);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`insert into device_groups (name) select 'Site ' || g from generate_series(1, 50) g`);
  // In chunks of 100,000 so a million-device seed shows progress and no statement holds everything.
  for (let from = 1; from <= DEVICES; from += 100_000) {
    await c.query(
      `with groups as (select array_agg(id order by name) as ids from device_groups)
     insert into devices (id, secret_hash, hmac_key_enc, group_id, model, manufacturer, android_version, sdk_int, serial, agent_version,
       enrolled_at, last_seen_at, state_sent_at, battery_level, battery_charging, mem_avail_bytes, mem_total_bytes, storage_free_bytes,
       storage_total_bytes, network_type, app_package, app_running, app_foreground, uptime_sec)
     select gen_random_uuid(), $2, 'x', (select ids[1 + g % 50] from groups),
       (array['KioskPro 10','Tab A8','Pixel 7','SignageBox 4K'])[1 + g % 4], 'Acme', '13', 33, 'SN' || lpad(g::text, 6, '0'), '1.0.0',
       now() - interval '30 days', case when g % 20 = 0 then now() - interval '2 days' else now() - random() * interval '4 minutes' end,
       now(), 20 + g % 80, g % 7 = 0, 1000000000, 4000000000, 20000000000, 64000000000, 'wifi', 'com.example.kiosk', g % 40 <> 0, g % 40 <> 0, 86400
     from generate_series($3::int, least($1::int, $3::int + 99999)) g`,
      [DEVICES, hash, from],
    );
    if (DEVICES > 100_000) process.stderr.write(`seeded ${Math.min(DEVICES, from + 99_999)} devices\n`);
  }
  await c.query(`insert into device_tags (device_id, tag) select id, 'floor-' || (abs(hashtext(id::text)) % 5) from devices`);
  await c.query(
    `insert into alerts (device_id, kind, condition_since, opened_at) select id, 'app_down', now(), now() from devices where not app_running`,
  );
  await c.query('vacuum analyze');
  const { rows } = await c.query(`select id from devices where last_seen_at > now() - interval '1 hour' order by serial limit $1`, [LIVE]);
  await c.end();
  return rows.map((r) => r.id);
}

async function startServer(databaseUrl) {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(ROOT, 'functions/lib/standalone/main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DATA_DIR: await mkdtemp(join(tmpdir(), 'mdm-console-bench-')),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_BCRYPT_ROUNDS: '4',
      CONSOLE_DIR: join(ROOT, 'web/build'),
      RATE_LIMIT_SESSION_FAILURES: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  await new Promise((resolve, reject) => {
    const t = setInterval(() => out.includes('"message":"listening"') && (clearInterval(t), resolve()), 25);
    proc.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, proc };
}

const post = async (url, body, token) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
};
const heartbeat = (level) => ({
  sentAt: new Date().toISOString(),
  battery: { level, charging: false },
  memory: { availBytes: 1_000_000_000, totalBytes: 4_000_000_000 },
  app: { package: 'com.example.kiosk', running: true, foreground: true },
  uptimeSec: 90_000,
  agentVersion: '1.0.0',
});

/** Records requestAnimationFrame deltas in the page until stopped. */
const FRAME_RECORDER = `(() => {
  window.__frames = []; window.__recording = true; let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__recording) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()`;

/** Runs `act` in the page and returns the milliseconds until a frame where `done` holds. */
const timedInPage = (page, act, done) =>
  page.evaluate(
    ([a, d]) =>
      new Promise((resolve, reject) => {
        const act = new Function(a);
        const done = new Function(d);
        performance.clearResourceTimings();
        const t0 = performance.now();
        act();
        const look = () => {
          if (done()) {
            // Where the time went: the page's query request (server time to its first byte, and when
            // its body was in, from the input) and the counts requests that ran alongside.
            const at = (e) => ({
              startMs: Math.round(e.startTime - t0),
              serverMs: Math.round(e.responseStart - e.requestStart),
              doneMs: Math.round(e.responseEnd - t0),
            });
            const entries = performance.getEntriesByType('resource');
            window.__lastTiming = {
              query: entries.filter((e) => e.name.includes('/admin/fleet/query')).map(at),
              counts: entries.filter((e) => e.name.includes('/admin/fleet/counts')).map(at),
            };
            resolve(Math.round(performance.now() - t0));
          } else if (performance.now() - t0 > 30_000) {
            const rows = [...document.querySelectorAll('[data-testid="device-row"]')].slice(0, 5).map((r) => JSON.stringify(r.dataset));
            const shown = document.querySelector('[data-testid="shown-count"]')?.textContent;
            reject(new Error(`not done: ${d}\nshown: ${shown}\nrows: ${rows.join(' ')}`));
          } else requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
      }),
    [act, done],
  );

const FIRST_ROW = `document.querySelector('[data-testid="device-row"]')`;
const setSelect = (testid, value) =>
  `const s = document.querySelector('[data-testid="${testid}"]'); s.value = ${JSON.stringify(value)}; s.dispatchEvent(new Event('change', { bubbles: true }));`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function serverInteractions(page) {
  // The filter menus' values come after the first rows (a pass over the fleet): wait for them.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="filter-group"] option').length > 1, null, { timeout: 120_000 });
  const rowsOf = (group) =>
    `const rows = [...document.querySelectorAll('[data-testid="device-row"]')]; return rows.length > 0 && rows.every((r) => r.dataset.group === ${JSON.stringify(group)});`;
  const countIs = (re) => `return /${re}/.test(document.querySelector('[data-testid="shown-count"]').textContent);`;
  const out = {
    groupFilterRowsMs: [],
    groupFilterCountMs: [],
    clearFilterRowsMs: [],
    statusCardRowsMs: [],
    searchRowsMs: [],
    sortByNameRowsMs: [],
  };
  /** The requests behind each timed rows figure (timedInPage's __lastTiming), to tell server time from the page's. */
  const requests = { groupFilterRows: [], statusCardRows: [], clearFilterRows: [], sortByNameRows: [] };
  const lastTiming = () => page.evaluate(() => window.__lastTiming);
  for (let i = 0; i < 5; i++) {
    const group = `Site ${10 + i}`;
    out.groupFilterRowsMs.push(await timedInPage(page, setSelect('filter-group', group), rowsOf(group)));
    requests.groupFilterRows.push(await lastTiming());
    out.groupFilterCountMs.push(await timedInPage(page, '', countIs(`Showing ${Math.round(DEVICES / 50)} of`)));
    out.clearFilterRowsMs.push(
      await timedInPage(
        page,
        setSelect('filter-group', ''),
        `const r = ${FIRST_ROW}; return r !== null && r.dataset.group !== ${JSON.stringify(group)};`,
      ),
    );
    requests.clearFilterRows.push(await lastTiming());
    // The Online card: the default order starts with offline devices (they alert), so the first row changes.
    out.statusCardRowsMs.push(
      await timedInPage(
        page,
        `document.querySelector('[data-testid="count-online"]').click()`,
        `return ${FIRST_ROW}?.dataset.status === 'online';`,
      ),
    );
    requests.statusCardRows.push(await lastTiming());
    await timedInPage(
      page,
      `document.querySelector('[data-testid="count-total"]').click()`,
      `return ${FIRST_ROW}?.dataset.status === 'offline';`,
    );
    const serial = `SN${String(1 + ((1234 + i * 1111) % DEVICES)).padStart(6, '0')}`;
    out.searchRowsMs.push(
      await timedInPage(
        page,
        `const el = document.querySelector('[data-testid="search"]'); el.value = 'sn${serial.slice(2)}'; el.dispatchEvent(new Event('input', { bubbles: true }));`,
        `return ${FIRST_ROW}?.textContent.includes(${JSON.stringify(serial)}) ?? false;`,
      ),
    );
    await timedInPage(
      page,
      `const el = document.querySelector('[data-testid="search"]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true }));`,
      `return ${FIRST_ROW}?.dataset.status === 'offline';`,
    );
    const before = await page.evaluate(() => document.querySelector('[data-testid="device-row"]').dataset.deviceId);
    out.sortByNameRowsMs.push(
      await timedInPage(
        page,
        `document.querySelector('[data-testid="sort-name"]').click()`,
        `const r = ${FIRST_ROW}; return r !== null && r.dataset.deviceId !== ${JSON.stringify(before)};`,
      ),
    );
    requests.sortByNameRows.push(await lastTiming());
    // Back to the default order (Status ascending).
    await page.getByTestId('sort-status').click();
    if ((await page.getByTestId('sort-status').locator('span').textContent()) !== '▲') await page.getByTestId('sort-status').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="device-row"]')?.dataset.status === 'offline');
  }
  return { ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { median: median(v), all: v }])), requests };
}

/**
 * Server mode: the statements of each first page as the server runs them (segment after segment
 * until 101 rows), under EXPLAIN ANALYZE on the seeded database: time in PostgreSQL, rows, and
 * whether any plan reads every device (a sequential scan of devices). A search's read of its ids is
 * timed from the client (a round trip included).
 */
const readsAllDevices = (node) =>
  (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'devices') || (node.Plans ?? []).some(readsAllDevices);

async function explainFirstPages(url) {
  const { openDatabase } = await import(pathToFileURL(join(ROOT, 'functions/lib/adapters/postgres/connect.js')).href);
  const q = await import(pathToFileURL(join(ROOT, 'functions/lib/fleet-view/fleet-query.repository.js')).href);
  const { sql } = await import('kysely');
  const h = await openDatabase({ kind: 'postgres', url, poolMax: 2 });
  const t = { onlineCutoff: new Date(Date.now() - 720_000), frozenAfterMs: 30_000 };
  const cases = [
    ['default order (severity)', { status: '' }, 'status'],
    ['group filter', { status: '', group: 'Site 10' }, 'status'],
    ['Online card', { status: 'online' }, 'status'],
    ['search (serial prefix)', { status: '', q: 'sn001234' }, 'status'],
    ['by name', { status: '' }, 'name'],
    ['by battery', { status: '' }, 'battery'],
    ['by last seen', { status: '' }, 'lastSeen'],
    ['by app', { status: '' }, 'app'],
  ];
  const out = {};
  try {
    for (const [label, filter, sort] of cases) {
      // As the server reads them (fleet-view.service.ts query): the where clauses of the page, a search
      // narrowed to its ids first (that read is counted too), each segment after the other.
      const t0 = performance.now();
      const wheres = await q.pageWheres(h.db, filter, t);
      let rows = 0;
      let ms = q.narrowSearch(filter.q) ? performance.now() - t0 : 0;
      let seqScan = false;
      const segments = q.segmentsOf(sort, 'asc', filter.status, t, q.narrowSearch(filter.q), filter.group);
      let read = 0;
      const perSegment = [];
      for (const seg of segments) {
        if (rows >= 101) break;
        // As the server reads them: a segment the status rules out is skipped, a big hash gets its memory.
        if (seg.empty) continue;
        if (wheres === null) break;
        const where = seg.alerting ? wheres.alertingWhere : wheres.where;
        const explain = sql`explain (analyze, format json) ${q.segmentStatement(where, seg, undefined, 101 - rows)}`;
        const { rows: plan } = seg.bigHash
          ? await h.db.transaction().execute(async (trx) => {
              await sql`set local work_mem = '64MB'`.execute(trx);
              return explain.execute(trx);
            })
          : await explain.execute(h.db);
        const p = plan[0]['QUERY PLAN'][0];
        rows += p.Plan['Actual Rows'];
        ms += p['Planning Time'] + p['Execution Time'];
        perSegment.push(Math.round((p['Planning Time'] + p['Execution Time']) * 10) / 10);
        seqScan ||= readsAllDevices(p.Plan);
        read++;
      }
      out[label] = { segmentsRead: read, rows, postgresMs: Math.round(ms * 10) / 10, segmentsMs: perSegment, seqScanOfDevices: seqScan };
    }
  } finally {
    await h.close();
  }
  return out;
}

const databaseUrl = withDb(args.pg, `fmdm_console_${Date.now()}`);
await adminQuery(`create database "${new URL(databaseUrl).pathname.slice(1)}"`);
let server;
let browser;
try {
  const migrate = spawn(process.execPath, [join(ROOT, 'functions/lib/scripts/migrate.js')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: 'inherit',
  });
  await new Promise((resolve, reject) =>
    migrate.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`migrate exited ${code}`)))),
  );
  const t0 = performance.now();
  const liveIds = await seed(databaseUrl);
  const seedMs = Math.round(performance.now() - t0);
  server = await startServer(databaseUrl);
  const login = await post(`${server.url}/api/v1/admin/login`, ADMIN);
  const token = login.body.token;

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // bypassCSP: the timings below run small functions built in the page (the console's CSP forbids eval).
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  await context.addCookies([{ name: 'mdm_session', value: token, url: server.url }]);
  const page = await context.newPage();

  // Time to first render: a cold load of the fleet view, measured in the page from navigation start.
  await page.addInitScript(() => {
    const w = /** @type {any} */ (window);
    const look = () => {
      if (!w.__firstRow && document.querySelector('[data-testid="device-row"]')) w.__firstRow = performance.now();
      const shown = document.querySelector('[data-testid="shown-count"]')?.textContent ?? '';
      if (!w.__allRows && /Showing \d+ of \d+ devices$/.test(shown.trim()) && !shown.includes('loading')) w.__allRows = performance.now();
      // Server mode may show its counts before its first rows: look until both are seen.
      if (!w.__allRows || !w.__firstRow) requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  });
  const loads = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => /** @type {any} */ (window).__allRows && /** @type {any} */ (window).__firstRow, null, {
      timeout: 60_000,
    });
    // and where a load's time went: the document, its scripts and the API requests made before the
    // counts were shown (each: when it started, the server's time to the first byte, when it was in)
    loads.push(
      await page.evaluate(() => {
        const w = /** @type {any} */ (window);
        const nav = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]);
        const at = (/** @type {PerformanceResourceTiming} */ e) => ({
          path: new URL(e.name).pathname.replace(/^\/api\/v1/, '').replace(/^\/_app\/immutable\/.*/, '/_app (scripts, styles)'),
          startMs: Math.round(e.startTime),
          serverMs: Math.round(e.responseStart - e.requestStart),
          doneMs: Math.round(e.responseEnd),
        });
        const entries = /** @type {PerformanceResourceTiming[]} */ (performance.getEntriesByType('resource'));
        const scripts = entries.filter((e) => e.name.includes('/_app/'));
        return {
          firstRowMs: Math.round(w.__firstRow),
          allLoadedMs: Math.round(w.__allRows),
          documentMs: Math.round(nav.responseEnd),
          scriptsDoneMs: Math.round(Math.max(0, ...scripts.map((e) => e.responseEnd))),
          domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
          api: entries.filter((e) => e.name.includes('/api/') && e.startTime < w.__allRows).map(at),
        };
      }),
    );
  }
  const shown = await page.getByTestId('shown-count').textContent();
  const mode = await page.getByTestId('shown-count').getAttribute('data-mode');

  // Server mode: a filter, a search and a sort, each timed in the page from the input to the first
  // frame that shows its rows (the median of five; the search includes the 200 ms typing pause).
  const interactions = mode === 'server' ? await serverInteractions(page) : undefined;

  // Baseline: frames while nothing happens, to tell the page's cost from the headless renderer's.
  await page.evaluate(FRAME_RECORDER);
  await page.waitForTimeout(2000);
  const idleFrames = await page.evaluate(() => ((window.__recording = false), window.__frames.slice(1)));

  // Scroll: the whole table top to bottom and back, at a wheel's pace (120 px a frame) and at a
  // fling's or a dragged scrollbar's (600 px a frame). The main thread's work per frame comes from CDP.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const scroll = {};
  for (const step of [120, 600]) {
    const before = await metrics();
    await page.evaluate(FRAME_RECORDER);
    await page.evaluate(
      async ([px, maxPx]) => {
        const el = document.querySelector('[data-testid="fleet-scroll"]');
        const frame = () => new Promise((r) => requestAnimationFrame(r));
        // Server mode fetches windows as it scrolls: the first 5,000 rows, not a million.
        const end = () => Math.min(el.scrollHeight, maxPx);
        for (let y = 0; y < end(); y += px) {
          el.scrollTop = y;
          await frame();
        }
        for (let y = end(); y > 0; y -= px) {
          el.scrollTop = y;
          await frame();
        }
      },
      [step, mode === 'server' ? 5000 * 44 : Number.MAX_SAFE_INTEGER],
    );
    const frames = await page.evaluate(() => ((window.__recording = false), window.__frames.slice(1)));
    const after = await metrics();
    const perFrame = (k) => Math.round(((after[k] - before[k]) * 1000 * 10) / frames.length) / 10;
    scroll[`${step}pxPerFrame`] = {
      ...frameStats(frames),
      mainThreadPerFrameMs: {
        script: perFrame('ScriptDuration'),
        layout: perFrame('LayoutDuration'),
        style: perFrame('RecalcStyleDuration'),
        allTasks: perFrame('TaskDuration'),
      },
    };
  }
  const rowsInDom = await page.getByTestId('device-row').count();
  await page.evaluate(() => (document.querySelector('[data-testid="fleet-scroll"]').scrollTop = 0));

  // Memory mode only from here on (server mode prints its figures and leaves the block).
  // What both modes print, with each mode's own figures.
  const report = (figures) =>
    console.log(
      JSON.stringify(
        {
          devices: DEVICES,
          mode,
          seedMs,
          shown: shown?.trim(),
          coldLoads: loads,
          ...figures,
          idle: frameStats(idleFrames),
          scroll: { rowsInDom, ...scroll },
        },
        null,
        2,
      ),
    );
  live: {
    if (mode === 'server') {
      report({ interactions, firstPagePlans: await explainFirstPages(databaseUrl) });
      break live;
    }
    // Live: device sessions for the devices that will beat, then RATE heartbeats a second for SECONDS s.
    const sessions = [];
    for (let i = 0; i < liveIds.length; i += 20) {
      const batch = await Promise.all(
        liveIds.slice(i, i + 20).map((id) => post(`${server.url}/api/v1/device/session`, { deviceId: id, deviceSecret: SECRET })),
      );
      sessions.push(...batch.map((r) => r.body.accessToken));
    }
    await page.evaluate(FRAME_RECORDER);
    const total = RATE * SECONDS;
    const latencies = [];
    const started = performance.now();
    const inflight = [];
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const k = n % sessions.length;
      // Alternate 90% and 50% (visible 5% steps) so every heartbeat changes the device's document.
      const level = Math.floor(n / sessions.length) % 2 === 0 ? 50 : 90;
      const t = performance.now();
      inflight.push(
        post(`${server.url}/api/v1/heartbeat`, heartbeat(level), sessions[k]).then(() => latencies.push(performance.now() - t)),
      );
    }
    await Promise.all(inflight);
    // A final round sets every beating device to 7% (shown as 5%); the screen has caught up when the
    // fleet view, sorted by battery highest first among those devices, shows 5% at the top.
    await page.getByTestId('search').fill('');
    const finalSent = performance.now();
    await Promise.all(sessions.map((s) => post(`${server.url}/api/v1/heartbeat`, heartbeat(7), s)));
    const sentAllMs = performance.now() - finalSent;
    const liveFrames = await page.evaluate(() => ((window.__recording = false), window.__frames.slice(1)));
    const achievedRate = Math.round((total / ((performance.now() - started) / 1000)) * 10) / 10;
    // Caught up when, sorted by battery lowest first, the beating devices (now 5%) fill exactly the
    // first LIVE rows: the seeded fleet's batteries are 20% and up.
    await page.getByTestId('sort-battery').click();
    await page.getByTestId('sort-battery').click();
    const catchUpStart = performance.now();
    let caughtUpMs = null;
    for (let i = 0; i < 400 && caughtUpMs === null; i++) {
      const done = await page.evaluate((n) => {
        const el = document.querySelector('[data-testid="fleet-scroll"]');
        el.scrollTop = (n - 3) * 44;
        const at = (index) => document.querySelector(`[aria-rowindex="${index + 2}"] [data-battery]`)?.getAttribute('data-battery');
        const top = document.querySelector('[aria-rowindex="2"] [data-battery]');
        return (top === null || top.getAttribute('data-battery') === '5') && at(n - 1) === '5' && at(n) !== '5' && at(n) !== undefined;
      }, liveIds.length);
      if (done) caughtUpMs = Math.round(performance.now() - catchUpStart + sentAllMs);
      else await new Promise((r) => setTimeout(r, 25));
    }
    report({
      live: {
        heartbeats: total,
        targetPerSec: RATE,
        achievedPerSec: achievedRate,
        heartbeatLatencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99) },
        frames: frameStats(liveFrames),
        finalRoundOnScreenMs: caughtUpMs,
      },
    });
  }
} finally {
  await browser?.close();
  server?.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  // BENCH_KEEP_DB=1 leaves the seeded database for a closer look (its name is printed); dropped otherwise.
  if (process.env.BENCH_KEEP_DB === '1') process.stderr.write(`kept ${databaseUrl}\n`);
  else await adminQuery(`drop database if exists "${new URL(databaseUrl).pathname.slice(1)}" with (force)`);
}
