-- 0004: device tags, signed remote commands and their push attempts.

-- Tags: free labels on devices (a device may carry several), assigned through the enrollment token
-- and later by the admin API. Groups (device_groups) stay one per device.
create table device_tags (
  device_id uuid not null references devices (id) on delete cascade,
  tag text not null,
  primary key (device_id, tag)
);
create index device_tags_tag_idx on device_tags (tag, device_id);
alter table enrollment_tokens add column tags text[] not null default '{}';

-- Set when FCM says the device's registration token is no longer valid; cleared by a new token.
alter table devices add column fcm_token_invalid_at timestamptz;

-- One row per command per device. `params` is kept as the exact JSON text that is signed, so every
-- envelope built for the command (push and each heartbeat) carries the same bytes. iat/exp of the
-- envelope are created_at/expires_at in Unix seconds.
create table commands (
  id uuid primary key,
  batch_id uuid not null,
  device_id uuid not null references devices (id) on delete cascade,
  type text not null check (type in ('REBOOT', 'RELAUNCH_APP', 'PING', 'LOCK', 'CLEAR_APP_DATA', 'INSTALL_APK', 'SET_CONFIG', 'WIPE')),
  params text not null default '{}',
  status text not null default 'queued'
    check (status in ('queued', 'dispatched', 'delivered', 'succeeded', 'failed', 'rejected', 'expired')),
  created_at timestamptz not null,
  created_by_type text not null check (created_by_type in ('admin', 'system')),
  created_by text,
  not_before timestamptz not null,
  expires_at timestamptz not null,
  dispatched_at timestamptz,
  delivered_at timestamptz,
  completed_at timestamptz,
  output text,
  error text,
  -- push bookkeeping: a dispatcher claims a command before pushing it, so a redelivered batch does not
  -- push it twice; pushed_at is set once FCM accepted it
  push_claimed_at timestamptz,
  pushed_at timestamptz,
  check (expires_at > created_at)
);
create index commands_device_open_idx on commands (device_id, created_at)
  where status in ('queued', 'dispatched', 'delivered');
create index commands_open_expiry_idx on commands (expires_at) where status in ('queued', 'dispatched', 'delivered');
create index commands_batch_idx on commands (batch_id);
create index commands_created_idx on commands (created_at desc, id desc);
create index commands_device_created_idx on commands (device_id, created_at desc, id desc);

create table command_dispatches (
  id bigint generated always as identity primary key,
  command_id uuid not null references commands (id) on delete cascade,
  at timestamptz not null,
  channel text not null check (channel in ('fcm', 'heartbeat')),
  attempt integer not null,
  outcome text not null
    check (outcome in ('sent', 'unregistered', 'no_token', 'push_unavailable', 'retrying', 'failed', 'delivered')),
  message_id text,
  error text
);
create index command_dispatches_command_idx on command_dispatches (command_id, id);
