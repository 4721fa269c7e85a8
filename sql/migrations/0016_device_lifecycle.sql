-- 0016: device lifecycle. A device is active, retiring (a signed WIPE was queued and its credentials
-- still work until the device has taken it) or retired (its credentials no longer work; its history
-- stays). Replacing a device records which device took over its name, group and tags. Devices are
-- found by serial to flag two enrollments of the same hardware.
alter table devices
  add column lifecycle text not null default 'active' check (lifecycle in ('active', 'retiring', 'retired')),
  add column retire_requested_at timestamptz,
  add column retired_at timestamptz,
  -- the WIPE sent before retiring: the device is retired once it is delivered, ended or expired
  add column retire_command_id uuid references commands (id) on delete set null,
  add column replaced_by uuid references devices (id) on delete set null;

create index devices_serial_idx on devices (serial) where serial is not null;
-- the minute tick looks only at devices waiting for their WIPE
create index devices_retiring_idx on devices (retire_requested_at) where lifecycle = 'retiring';
