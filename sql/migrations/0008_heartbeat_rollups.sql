-- 0008: hourly heartbeat rollups for long charts and retention, the rollup job's progress, a BRIN index
-- so one hour of heartbeats is read without scanning its whole day, and the per-device window that
-- recognises a heartbeat sent again after a timeout (protocol: bootId + seq).

-- One row per device and hour: min/avg/max of battery, memory and storage, the uptime at the end of the
-- hour, and how many heartbeats it summarises (with how many of them charging, and with the kiosk app
-- running in the foreground). Kept for ROLLUP_RETENTION_DAYS, long after the raw heartbeats are gone,
-- so sizes are MiB in 4 bytes rather than bytes in 8 (a chart needs no more): about 100 bytes a row.
-- Partitioned by month so retention drops whole partitions.
create table heartbeat_rollups (
  device_id uuid not null,
  hour timestamptz not null,
  mem_avail_min_mb integer not null,
  mem_avail_avg_mb integer not null,
  mem_avail_max_mb integer not null,
  mem_total_mb integer not null,
  storage_free_min_mb integer,
  storage_free_avg_mb integer,
  storage_free_max_mb integer,
  storage_total_mb integer,
  uptime_max_sec integer not null,
  samples integer not null,
  charging_samples integer not null,
  app_up_samples integer not null,
  battery_avg real not null,
  battery_min smallint not null,
  battery_max smallint not null,
  primary key (device_id, hour)
) partition by range (hour);

-- Creates the monthly rollup partitions covering p_from's UTC month through p_months months later.
create function mdm_ensure_rollup_partitions(p_from timestamptz, p_months integer)
returns integer
language plpgsql
as $$
declare
  first_month date := date_trunc('month', p_from at time zone 'UTC')::date;
  month date;
  part text;
  created integer := 0;
begin
  perform pg_advisory_xact_lock(727300002);
  for i in 0 .. p_months loop
    month := (first_month + make_interval(months => i))::date;
    part := 'heartbeat_rollups_p' || to_char(month, 'YYYYMM');
    if to_regclass(part) is null then
      execute format(
        'create table %I partition of heartbeat_rollups for values from (%L) to (%L)',
        part, to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
        to_char((month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00'
      );
      created := created + 1;
    end if;
  end loop;
  return created;
end
$$;

-- Every hour before rolled_up_to is in heartbeat_rollups; absent until the first rollup.
create table rollup_state (
  id integer primary key default 1 check (id = 1),
  rolled_up_to timestamptz not null
);

-- Heartbeats arrive in receive-time order, so a BRIN index (a few pages per daily partition) finds one
-- hour's pages; autosummarize keeps it current without waiting for a vacuum.
create index heartbeats_received_brin on heartbeats using brin (received_at) with (pages_per_range = 32, autosummarize = on);
-- Retention deletes old device events by receive time.
create index device_events_received_brin on device_events using brin (received_at);

-- The heartbeats a device has sent in its current boot: bit i of hb_seen set = seq hb_seq - i is stored.
-- A heartbeat with the same bootId and a seq inside the 64-wide window whose bit is set was stored
-- already (a retry after a lost answer): it is answered but not stored again.
alter table devices
  add column hb_boot_id text,
  add column hb_seq bigint,
  add column hb_seen bigint;
