import { defaultSettings, loadConfig, migrateToLatest, openDatabase, sweep } from '@fleet-mdm/functions/in-process';
import pg from 'pg';
import { benchArgs, machine, printResult } from './harness.js';
import { createScratchDatabase, DEFAULT_PG_URL, dropDatabase } from './pg-admin.js';

/**
 * `npm run bench:sweep`: the alert sweep over a fleet of a million devices on the real PostgreSQL.
 * Seeds devices with a realistic spread of trouble (offline, low battery, app down, frozen app), then
 * times sweeps: the first one (remembers every condition, opens every offline alert), a quiet one
 * (nothing changed), one after the hold time (opens the app and battery alerts), and one after a
 * thousand devices recovered. The backend's sweep comes through its typed entry (@fleet-mdm/functions/in-process).
 */
const args = benchArgs('npm run bench:sweep -- [options]\nThe alert sweep over a million devices on PostgreSQL.', {
  devices: { type: 'string', default: '1000000' },
  pg: { type: 'string', default: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL },
  json: { type: 'string' },
  keep: { type: 'boolean', default: false },
});

const devices = Number(args.devices);
const databaseUrl = await createScratchDatabase(args.pg, 'fmdm_sweep_bench');
const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolMax: 4, statementTimeoutMs: 120_000 });
try {
  await migrateToLatest(database.db);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const now = Date.now();
  // 10% offline, and among the online: 1% low battery, 0.5% app down, 0.2% app frozen
  await client.query(
    `insert into devices (id, secret_hash, hmac_key_enc, model, manufacturer, android_version, sdk_int, serial, agent_version,
       enrolled_at, last_seen_at, battery_level, battery_charging, app_package, app_running, app_foreground, app_last_frame_age_ms)
     select gen_random_uuid(), 'x', 'x', 'KioskPro 10', 'Acme', '13', 33, 'SN' || g, '1.0.0', $2::timestamptz - interval '30 days',
       case when g % 10 = 0 then $2::timestamptz - interval '1 hour' - random() * interval '2 days' else $2::timestamptz - random() * interval '5 minutes' end,
       case when g % 100 = 1 then 9 else 60 end, false, 'com.example.kiosk',
       g % 200 <> 3, g % 200 <> 3, case when g % 500 = 7 then 90000 else 16 end
     from generate_series(1, $1::int) g`,
    [devices, new Date(now)],
  );
  await client.query('vacuum analyze devices');
  await client.query('checkpoint');

  const config = loadConfig({});
  const settings = defaultSettings({ offlineAfterSec: config.offlineAfterSec, ...config.alertDefaults });
  const time = async (label: string, at: number) => {
    const t0 = performance.now();
    const r = await sweep(database.db, settings, new Date(at));
    return { label, ms: Math.round(performance.now() - t0), opened: r.opened, resolved: r.resolved };
  };
  const runs = [await time('first sweep: conditions remembered, offline alerts opened', now)];
  runs.push(await time('quiet sweep: nothing changed', now + 1000));
  runs.push(await time('after the hold time: app and battery alerts opened', now + 3 * 60_000));
  runs.push(await time('quiet sweep', now + 3 * 60_000 + 1000));
  await client.query(`update devices set last_seen_at = $1 where id in (select id from devices where serial like 'SN%0' limit 1000)`, [
    new Date(now + 4 * 60_000),
  ]);
  runs.push(await time('1,000 offline devices came back: resolved', now + 4 * 60_000 + 1000));
  await client.end();
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    devices,
    seededAt: now,
    runs,
  };
  await printResult(result, args.json);
} finally {
  await database.close();
  if (args.keep) console.log(`kept ${databaseUrl}`);
  else await dropDatabase(args.pg, databaseUrl);
}
