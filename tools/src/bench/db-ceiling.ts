import { readFile } from 'node:fs/promises';
import pg from 'pg';

/**
 * The raw database ceiling for heartbeats: the SQL of one heartbeat - update the device's latest
 * state and insert its heartbeat row, one autocommitted statement - driven straight through `pg` by
 * many clients with a prepared statement, no HTTP, no validation, no batching. Run as its own process.
 */
export interface CeilingOptions {
  databaseUrl: string;
  deviceIdsFile: string;
  clients: number;
  durationSec: number;
}

export const ONE_HEARTBEAT_SQL = `
with d as (
  update devices set
    last_seen_at = $2, agent_version = $16,
    state_sent_at = case when state_sent_at is null or state_sent_at <= $3 then $3 else state_sent_at end,
    battery_level = $4, battery_charging = $5, battery_temp_c = $6, mem_avail_bytes = $7, mem_total_bytes = $8,
    storage_free_bytes = $9, storage_total_bytes = $10, network_type = 'wifi', network_rssi = $11,
    app_package = 'com.example.kiosk', app_running = $12, app_foreground = $13, app_version_code = 230,
    app_last_frame_age_ms = $14, uptime_sec = $15
  where id = $1
  returning id
)
insert into heartbeats (device_id, received_at, sent_at, mem_avail_bytes, mem_total_bytes, storage_free_bytes,
  storage_total_bytes, uptime_sec, app_last_frame_age_ms, battery_level, battery_temp_dc, network_rssi,
  battery_charging, app_running, app_foreground)
select d.id, $2, $3, $7, $8, $9, $10, $15, $14, $4, ($6 * 10)::smallint, $11, $5, $12, $13 from d`;

async function run(o: CeilingOptions) {
  const ids = JSON.parse(await readFile(o.deviceIdsFile, 'utf8')) as string[];
  let count = 0;
  let errors = 0;
  const end = performance.now() + o.durationSec * 1000;
  let seq = 0;
  const worker = async () => {
    const client = new pg.Client({ connectionString: o.databaseUrl });
    await client.connect();
    while (performance.now() < end) {
      const i = seq++;
      const now = new Date();
      try {
        await client.query({
          name: 'one_heartbeat',
          text: ONE_HEARTBEAT_SQL,
          values: [
            ids[i % ids.length],
            now,
            now,
            20 + (i % 80),
            i % 7 === 0,
            31.5,
            1_000_000_000,
            4_000_000_000,
            20_000_000_000,
            64_000_000_000,
            -55,
            true,
            true,
            16,
            3600 + i,
            '1.0.0',
          ],
        });
        count++;
      } catch {
        errors++;
      }
    }
    await client.end();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.clients }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { clients: o.clients, statements: count, errors, perSec: Math.round(count / seconds) };
}

const options = JSON.parse(process.argv[2] ?? '{}') as CeilingOptions;
process.stdout.write(JSON.stringify(await run(options)) + '\n');
