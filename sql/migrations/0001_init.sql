-- 0001_init: admins, groups, enrollment tokens, devices with their latest state, heartbeats partitioned
-- by day, device events, the audit log and failure-counting rate limits.
-- Frozen once landed: change the schema in a new numbered file.

create table admins (
  id uuid primary key default gen_random_uuid(),
  email text not null unique check (email = lower(email) and length(email) between 3 and 254),
  name text not null default '',
  role text not null check (role in ('viewer', 'operator', 'admin')),
  password_hash text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_login_at timestamptz,
  disabled_at timestamptz
);

create table device_groups (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  created_at timestamptz not null default now()
);

create table enrollment_tokens (
  id uuid primary key default gen_random_uuid(),
  -- SHA-256 (hex) of the token; the token itself is shown once and never stored.
  token_hash text not null unique,
  label text not null default '',
  group_id uuid references device_groups (id),
  created_by uuid references admins (id),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid references admins (id),
  check (expires_at > created_at)
);
create index enrollment_tokens_created_idx on enrollment_tokens (created_at desc, id desc);

create table devices (
  id uuid primary key,
  -- bcrypt hash of the device secret; the HMAC key is AES-256-GCM encrypted with the server's key.
  secret_hash text not null,
  hmac_key_enc text not null,
  name text,
  group_id uuid references device_groups (id),
  -- unique: a token enrolls one device, whatever the application code does
  enrollment_token_id uuid unique references enrollment_tokens (id),
  model text not null,
  manufacturer text not null,
  android_version text not null,
  sdk_int integer not null,
  serial text,
  agent_version text not null,
  enrolled_at timestamptz not null,
  -- server time of the latest contact (enrollment or heartbeat); online = younger than the offline threshold
  last_seen_at timestamptz not null,
  -- latest state, from the heartbeat with the newest device-side sentAt
  state_sent_at timestamptz,
  battery_level smallint,
  battery_charging boolean,
  battery_temp_c real,
  mem_avail_bytes bigint,
  mem_total_bytes bigint,
  storage_free_bytes bigint,
  storage_total_bytes bigint,
  network_type text,
  network_rssi smallint,
  network_ip text,
  app_package text,
  app_running boolean,
  app_foreground boolean,
  app_version_name text,
  app_version_code bigint,
  app_last_frame_age_ms integer,
  uptime_sec bigint,
  fcm_token text,
  fcm_token_updated_at timestamptz
);
create index devices_last_seen_idx on devices (last_seen_at desc, id desc);
create index devices_group_idx on devices (group_id);

-- One row per heartbeat, partitioned by the UTC day it was received so retention drops whole partitions.
-- Columns are ordered widest first to avoid alignment padding; the temperature is kept in tenths of a degree.
create table heartbeats (
  device_id uuid not null,
  received_at timestamptz not null,
  sent_at timestamptz not null,
  mem_avail_bytes bigint not null,
  mem_total_bytes bigint not null,
  storage_free_bytes bigint,
  storage_total_bytes bigint,
  uptime_sec bigint not null,
  app_last_frame_age_ms integer,
  battery_level smallint not null,
  battery_temp_dc smallint,
  network_rssi smallint,
  battery_charging boolean not null,
  app_running boolean not null,
  app_foreground boolean not null
) partition by range (received_at);
create index heartbeats_device_time_idx on heartbeats (device_id, received_at);

-- Creates the daily partitions covering [p_from, p_from + p_days days]; returns how many it created.
-- Serialised by an advisory lock so several instances can call it at once.
create function mdm_ensure_heartbeat_partitions(p_from timestamptz, p_days integer)
returns integer
language plpgsql
as $$
declare
  first_day date := (p_from at time zone 'UTC')::date;
  day date;
  part text;
  created integer := 0;
begin
  perform pg_advisory_xact_lock(727300001);
  for i in 0 .. p_days loop
    day := first_day + i;
    part := 'heartbeats_p' || to_char(day, 'YYYYMMDD');
    if to_regclass(part) is null then
      execute format(
        'create table %I partition of heartbeats for values from (%L) to (%L)',
        part, to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00'
      );
      created := created + 1;
    end if;
  end loop;
  return created;
end
$$;

create table device_events (
  id bigint generated always as identity primary key,
  device_id uuid not null references devices (id) on delete cascade,
  received_at timestamptz not null,
  occurred_at timestamptz not null,
  type text not null,
  data jsonb not null default '{}'
);
create index device_events_device_idx on device_events (device_id, received_at desc);

create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  actor_type text not null check (actor_type in ('admin', 'device', 'system')),
  actor_id text,
  actor_name text not null,
  action text not null,
  target_type text,
  target_id text,
  device_id uuid,
  ip text,
  details jsonb not null default '{}'
);
create index audit_log_actor_idx on audit_log (actor_id, id desc);
create index audit_log_action_idx on audit_log (action, id desc);
create index audit_log_device_idx on audit_log (device_id, id desc) where device_id is not null;

-- Failed attempts per (scope, client address) in a fixed window; shared by every server instance.
create table rate_limits (
  bucket text primary key,
  window_started_at timestamptz not null,
  failures integer not null
);
