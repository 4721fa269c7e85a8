-- 0026: the fleet view's server mode (docs/fleet-query.md). Above CONSOLE_SERVER_QUERY_ABOVE devices the
-- console filters, sorts and pages in SQL; each page walks one of these indexes and stops after a page.
-- The sort name is the name the console shows: the device's name, or its model and serial.
-- Cost: a heartbeat already updates indexed columns (last_seen_at), so every heartbeat adds an entry to
-- each index of devices; these add eight (two of them tiny partial ones; the frame-age one covers every
-- running device); bench:heartbeat has not been re-run with them.
create index devices_sort_name_idx on devices ((coalesce(name, model || coalesce(' ' || serial, ''))), id);
-- A group's devices by name: the group filter's pages read one range of it, not the name index
-- keeping one device in fifty.
create index devices_group_name_idx on devices (group_id, (coalesce(name, model || coalesce(' ' || serial, ''))), id);
-- Search: a prefix of the name or of the serial, any case.
create index devices_search_name_idx on devices ((lower(coalesce(name, model || coalesce(' ' || serial, '')))) text_pattern_ops);
create index devices_search_serial_idx on devices ((lower(serial)) text_pattern_ops) where serial is not null;
-- Battery order: the 5% step the console shows, then the name.
create index devices_battery_sort_idx on devices ((coalesce(battery_level / 5, -1)), (coalesce(name, model || coalesce(' ' || serial, ''))), id);
-- The app-down segment of the default order and the App down card: a small set.
create index devices_app_down_idx on devices (id)
  where lifecycle = 'active' and app_package is not null and not coalesce(app_running and app_foreground, false);
-- The frozen and no-report segments of the default and App orders: found through these, not by
-- reading the name index past every running device.
create index devices_app_frozen_idx on devices (app_last_frame_age_ms)
  where lifecycle = 'active' and app_package is not null and coalesce(app_running and app_foreground, false);
create index devices_app_unknown_idx on devices (id) where lifecycle = 'active' and app_package is null;
