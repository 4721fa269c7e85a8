-- 0028: a heartbeat adds no entry to any index of `devices` (docs/benchmarks.md, "Cost per heartbeat").
--
-- Every heartbeat updates its device's row. PostgreSQL does that as a HOT update (the new row
-- version on the same page, no new index entries) only when no column that an index of the table
-- refers to (in its key or its predicate) changes. `last_seen_at` was indexed and changes on every
-- heartbeat, so every heartbeat added an entry to each of the 14 indexes of `devices` (0026's
-- fleet-query indexes had made that +54% WAL per heartbeat). Now:
--
-- * the last contact is also kept in `device_presence`, a narrow table with the index that range
--   reads need (the sweep's newly-offline range, the offline segment and the order by last contact
--   of the fleet view, the devices list); a trigger keeps it equal to `devices.last_seen_at` whoever
--   writes that (the heartbeat statement, enrollment, an operator's SQL), and `devices.last_seen_at`
--   stays where every reader finds it, no longer indexed;
-- * the fleet-query indexes refer to coarse stored columns that a heartbeat rarely changes: the
--   battery's 5% step, and the app's frame age in whole seconds (0 while the app draws; the frozen
--   threshold is a second or more).
--
-- So a heartbeat is a HOT update of `devices` (on a page with room: fillfactor 80) plus the update
-- of a three-column row with three indexes. Adding the stored columns rewrites `devices` once, under
-- an exclusive lock: about 30 s for a million devices on a 2-core machine (measured: the presence
-- table 7 s, the rewrite 16 s, the indexes 4 s), during which heartbeats wait. Run it in a quiet minute.

-- Filled before its keys exist: building them once is faster than checking a million rows one by one.
-- With the device's group: a group's offline devices are one range of (group_id, last_seen_at).
create table device_presence (
  device_id uuid not null,
  last_seen_at timestamptz not null,
  group_id uuid
) with (fillfactor = 90);
insert into device_presence (device_id, last_seen_at, group_id) select id, last_seen_at, group_id from devices;
alter table device_presence add primary key (device_id),
  add foreign key (device_id) references devices (id) on delete cascade;
create index device_presence_seen_idx on device_presence (last_seen_at desc, device_id desc);
create index device_presence_group_seen_idx on device_presence (group_id, last_seen_at);

create function device_presence_insert() returns trigger language plpgsql as $$
begin
  insert into device_presence (device_id, last_seen_at, group_id) select n.id, n.last_seen_at, n.group_id from new_devices n;
  return null;
end $$;
create function device_presence_update() returns trigger language plpgsql as $$
begin
  update device_presence set last_seen_at = new.last_seen_at, group_id = new.group_id where device_id = new.id;
  return null;
end $$;
-- New devices in one statement per insert; a changed last contact or group by primary key.
create trigger devices_presence_insert after insert on devices
  referencing new table as new_devices for each statement execute function device_presence_insert();
create trigger devices_presence_update after update of last_seen_at, group_id on devices
  for each row when (old.last_seen_at is distinct from new.last_seen_at or old.group_id is distinct from new.group_id)
  execute function device_presence_update();

drop index devices_last_seen_idx;

-- (one statement: the table is rewritten once)
alter table devices add column battery_step smallint generated always as (coalesce(battery_level / 5, -1)) stored,
  add column app_frame_age_sec integer generated always as (app_last_frame_age_ms / 1000) stored;
drop index devices_battery_sort_idx;
create index devices_battery_sort_idx on devices (battery_step, (coalesce(name, model || coalesce(' ' || serial, ''))), id);
-- Running apps that have not drawn for a second or more: the frozen ones are among them.
drop index devices_app_frozen_idx;
create index devices_app_frozen_idx on devices (app_frame_age_sec)
  where lifecycle = 'active' and app_package is not null and coalesce(app_running and app_foreground, false) and app_frame_age_sec > 0;

alter table devices set (fillfactor = 80);
analyze device_presence;
