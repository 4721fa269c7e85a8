-- 0029: the alerting devices with their sort keys, for the fleet view's default order in server mode
-- (docs/fleet-query.md). The order starts with the devices that have an open alert, most alerts first,
-- then by name; read through the open alerts, a first page probed every alerting device (25,000 in a
-- million-device bench: 0.3-1 s) and sorted them whole, under every filter. This table holds one row
-- per alerting device with its open-alert count, the name the console sorts by and its group, so a
-- page walks one of its indexes and reads only the devices it shows, and the group filter is applied
-- before any device is read.
-- Kept by triggers: a statement that opens, resolves or deletes alerts recounts the devices it touched
-- (one statement for the sweep's whole batch); a rename, regrouping or new serial of a device updates
-- its row (heartbeats set none of these columns, so the trigger never fires for them).
create table fleet_alerting (
  device_id uuid primary key references devices (id) on delete cascade,
  open_alerts int not null,
  -- the console's sort name (fleet-query.repository.ts SORT_NAME)
  sort_name text not null,
  group_id uuid
);
-- ascending severity: most alerts first, then name; descending: fewest first, then name
create index fleet_alerting_most_idx on fleet_alerting ((-open_alerts), sort_name, device_id);
create index fleet_alerting_fewest_idx on fleet_alerting (open_alerts, sort_name, device_id);
create index fleet_alerting_group_idx on fleet_alerting (group_id);

-- How many devices a group has, for the group filter's count: every device of the group is counted off
-- the group index, less the group's retiring and retired ones off this one. (Counted with the lifecycle
-- in the heap, a group of 20,000 devices spread over a million read most of the table: 0.3-1.6 s.)
-- Partial: heartbeats of active devices add no entry to it.
create index devices_inactive_group_idx on devices (group_id) where lifecycle <> 'active';

-- Two transactions that change the same device's alerts at once take turns, so that each recount
-- reads the other's alerts once it committed and the count is exact (each counting on its own
-- snapshot, both would store the count they saw: one alert short). A small change locks its devices
-- (transaction-scoped advisory locks in one order, so two never wait on each other crosswise, under a
-- shared lock); a big one (the sweep opening alerts for a whole site at once) takes the exclusive
-- lock instead of thousands of locks, which would run out of lock memory.
create function fleet_alerting_sync(ids uuid[]) returns void language plpgsql as $$
begin
  if cardinality(ids) > 256 then
    perform pg_advisory_xact_lock(727300029);
  else
    perform pg_advisory_xact_lock_shared(727300029);
    perform pg_advisory_xact_lock(727300030, x.h) from (select distinct hashtext(i::text) as h from unnest(ids) i) x order by x.h;
  end if;
  delete from fleet_alerting f where f.device_id = any(ids)
    and not exists (select 1 from alerts a where a.device_id = f.device_id and a.status = 'open');
  insert into fleet_alerting (device_id, open_alerts, sort_name, group_id)
  select d.id, c.n, coalesce(d.name, d.model || coalesce(' ' || d.serial, '')), d.group_id
  from (select a.device_id, count(*)::int as n from alerts a where a.device_id = any(ids) and a.status = 'open' group by a.device_id) c
  join devices d on d.id = c.device_id
  on conflict (device_id) do update set open_alerts = excluded.open_alerts, sort_name = excluded.sort_name, group_id = excluded.group_id;
end $$;

create function fleet_alerting_alerts_inserted() returns trigger language plpgsql as $$
begin
  perform fleet_alerting_sync(array(select distinct device_id from new_alerts));
  return null;
end $$;
create function fleet_alerting_alerts_updated() returns trigger language plpgsql as $$
begin
  perform fleet_alerting_sync(array(select device_id from new_alerts union select device_id from old_alerts));
  return null;
end $$;
create function fleet_alerting_alerts_deleted() returns trigger language plpgsql as $$
begin
  perform fleet_alerting_sync(array(select distinct device_id from old_alerts));
  return null;
end $$;
create trigger fleet_alerting_alerts_inserted after insert on alerts
  referencing new table as new_alerts for each statement execute function fleet_alerting_alerts_inserted();
create trigger fleet_alerting_alerts_updated after update on alerts
  referencing old table as old_alerts new table as new_alerts for each statement execute function fleet_alerting_alerts_updated();
create trigger fleet_alerting_alerts_deleted after delete on alerts
  referencing old table as old_alerts for each statement execute function fleet_alerting_alerts_deleted();

create function fleet_alerting_device_changed() returns trigger language plpgsql as $$
begin
  update fleet_alerting set sort_name = coalesce(new.name, new.model || coalesce(' ' || new.serial, '')), group_id = new.group_id
  where device_id = new.id;
  return null;
end $$;
create trigger fleet_alerting_device_changed after update of name, model, serial, group_id on devices
  for each row when (old.name is distinct from new.name or old.model is distinct from new.model
    or old.serial is distinct from new.serial or old.group_id is distinct from new.group_id)
  execute function fleet_alerting_device_changed();

select fleet_alerting_sync(array(select distinct device_id from alerts where status = 'open'));
analyze fleet_alerting;
