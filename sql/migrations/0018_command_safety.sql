-- 0018: commands whose blast radius is confirmed, approved and cancellable.
--
-- Cancel: a queued or dispatched command can be cancelled by an operator. `cancelled` is final: the
-- command is never handed out again, and heartbeat answers name it in `cancelled` (once it was handed
-- out) until the device answers with anything but `delivered`, or the command would have expired. A report the device
-- sends after the cancel (it ran the command before the cancel reached it) is kept in device_report,
-- device_report_at, output and error; the status stays `cancelled`.
alter table commands
  drop constraint commands_status_check,
  add constraint commands_status_check
    check (status in ('queued', 'dispatched', 'delivered', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled')),
  drop constraint commands_created_by_type_check,
  add constraint commands_created_by_type_check check (created_by_type in ('admin', 'system', 'token')),
  add column cancelled_at timestamptz,
  add column cancelled_by text,
  add column device_report text check (device_report in ('delivered', 'succeeded', 'failed', 'rejected', 'cancelled')),
  add column device_report_at timestamptz,
  add constraint commands_cancelled check ((status = 'cancelled') = (cancelled_at is not null));

-- the heartbeat statement asks, per device, whether a cancel is still to be told: a small partial index
create index commands_cancel_untold_idx on commands (device_id)
  where status = 'cancelled' and dispatched_at is not null and (device_report is null or device_report = 'delivered');

-- A WIPE for more than one device waits for a second admin: the request keeps what was asked (type,
-- params, target, the confirmed count); an admin other than the requester approves it (the batch is
-- created then, in the same transaction) or rejects it. A request is good for an hour.
create table command_approvals (
  id uuid primary key,
  type text not null check (type in ('WIPE')),
  params text not null default '{}',
  -- {"deviceIds": [...]} | {"group": "..."} | {"tag": "..."} | {"all": true}
  target jsonb not null,
  device_count integer not null check (device_count > 1),
  -- how long the commands live once created (seconds), and not before when
  expires_in_sec integer not null check (expires_in_sec > 0),
  not_before timestamptz,
  status text not null default 'pending' check (status in ('pending', 'approved', 'rejected', 'expired')),
  requested_by uuid not null references admins (id) on delete cascade,
  requested_by_email text not null,
  requested_at timestamptz not null,
  expires_at timestamptz not null,
  decided_by uuid references admins (id) on delete set null,
  decided_by_email text,
  decided_at timestamptz,
  reason text,
  batch_id uuid,
  check (expires_at > requested_at),
  check ((status = 'pending') = (decided_at is null))
);
create index command_approvals_pending_idx on command_approvals (expires_at) where status = 'pending';
create index command_approvals_requested_idx on command_approvals (requested_at desc, id desc);
