-- 0030: the group filter's alerting devices in order, off an index of their own.
-- With a group chosen, the fleet view's first two segments (the group's alerting devices, offline then
-- online; fleet-query.repository.ts alertingSegment) walked fleet_alerting's order index over every
-- alerting device of the fleet and dropped those of other groups: 25,000 alerting devices in the
-- million-device bench, about 43,000 buffers and 15-45 ms per segment, more on a loaded machine, for a
-- group with none. Led by the group, the same order reads only the group's rows (a few buffers).
-- fleet_alerting holds alerting devices only, so these indexes stay small; heartbeats never write it.
create index fleet_alerting_group_most_idx on fleet_alerting (group_id, (-open_alerts), sort_name, device_id);
create index fleet_alerting_group_fewest_idx on fleet_alerting (group_id, open_alerts, sort_name, device_id);
-- the group's rows are found by either of them now
drop index fleet_alerting_group_idx;
