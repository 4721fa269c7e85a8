-- 0025 (day two). RELEASE_OWNER, a signed command that makes the agent give up Device Owner
-- (DevicePolicyManager.clearDeviceOwnerApp): the device keeps its data and becomes an ordinary phone.
-- It is guarded like WIPE (admins only, confirmed beyond one device, a second admin beyond one device),
-- so approval requests may carry it too. Retiring with releaseOwner: true sends it first, like a WIPE
-- (devices.retire_command_id, 0016). Also an index of the hourly rollups by hour, for the fleet health chart.
alter table commands
  drop constraint commands_type_check,
  add constraint commands_type_check
    check (type in ('REBOOT', 'RELAUNCH_APP', 'PING', 'LOCK', 'CLEAR_APP_DATA', 'INSTALL_APK', 'SET_CONFIG', 'WIPE', 'RELEASE_OWNER'));

alter table command_approvals
  drop constraint command_approvals_type_check,
  add constraint command_approvals_type_check check (type in ('WIPE', 'RELEASE_OWNER'));

-- The fleet health chart (GET /api/v1/admin/fleet/health) counts, per hour, the devices that sent a
-- heartbeat in it: one aggregate over a range of hours of every device. The primary key leads with
-- device_id, so without this the count reads every rollup row of the range's partitions; with it, an
-- index-only scan of the range, already in hour order for the GROUP BY.
create index heartbeat_rollups_hour_idx on heartbeat_rollups (hour);

-- The chart's counts of a complete hour never change, so each is computed once (the first time the
-- chart asks for it: one hour of the aggregate above) and read from here after that: 168 rows for 7 d
-- whatever the fleet's size.
create table fleet_health_hours (
  hour timestamptz primary key,
  online integer not null check (online >= 0),
  fleet integer not null check (fleet >= 0),
  alerting integer not null check (alerting >= 0),
  computed_at timestamptz not null default now()
);
