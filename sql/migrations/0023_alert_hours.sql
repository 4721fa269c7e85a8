-- 0023: alert hours. A group may say when its devices are expected to run (weekly ranges in its time
-- zone) and list one-off maintenance windows; outside those hours, or inside a window, the sweep raises
-- no offline or app alerts for the group's devices. A device may be snoozed until a time: it raises
-- no alerts at all until then. The sweep evaluates the few groups' hours in the application and passes
-- the result to its one statement (docs/alerts-hours.md).
create table group_alert_hours (
  group_id uuid primary key references device_groups (id) on delete cascade,
  -- an IANA time zone name, validated by the application
  time_zone text not null,
  -- {"mon": [[540, 1260]], ...}: per weekday, minute ranges [start, end) of the local day
  weekly jsonb not null,
  updated_at timestamptz not null,
  updated_by uuid references admins (id) on delete set null
);

create table group_maintenance_windows (
  id uuid primary key default gen_random_uuid(),
  group_id uuid not null references device_groups (id) on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text not null default '',
  created_at timestamptz not null,
  created_by uuid references admins (id) on delete set null,
  check (ends_at > starts_at)
);
create index group_maintenance_windows_group_idx on group_maintenance_windows (group_id, ends_at);

create table device_snoozes (
  device_id uuid primary key references devices (id) on delete cascade,
  until timestamptz not null,
  reason text not null default '',
  created_at timestamptz not null,
  created_by uuid references admins (id) on delete set null
);
-- the sweep looks for snoozes that ended since its last round
create index device_snoozes_until_idx on device_snoozes (until);
