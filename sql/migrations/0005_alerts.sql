-- 0005: alerts raised by the sweep, the conditions it watches, what it tells people (an outbox of
-- notices composed into messages per channel), self-healing steps, and the alert settings.

-- One row per (device, kind) whose condition holds now, with the time it was first seen: the hold
-- time before an alert opens is measured from `since`.
create table alert_conditions (
  device_id uuid not null references devices (id) on delete cascade,
  kind text not null,
  since timestamptz not null,
  primary key (device_id, kind)
);

create table alerts (
  id uuid primary key default gen_random_uuid(),
  device_id uuid not null references devices (id) on delete cascade,
  kind text not null check (kind in ('offline', 'low_battery', 'app_down', 'app_frozen')),
  status text not null default 'open' check (status in ('open', 'resolved')),
  condition_since timestamptz not null,
  opened_at timestamptz not null,
  resolved_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by uuid references admins (id),
  -- the device state that raised it (battery level, last seen, frame age ...)
  details jsonb not null default '{}'
);
-- one open alert per device and kind, whatever runs concurrently
create unique index alerts_one_open_idx on alerts (device_id, kind) where status = 'open';
create index alerts_opened_idx on alerts (opened_at desc, id desc);
create index alerts_device_idx on alerts (device_id, opened_at desc);
create index alerts_recent_resolved_idx on alerts (device_id, kind, resolved_at desc) where status = 'resolved';

-- Composed messages, one per channel send; retried until sent or given up. The payload is kept so a
-- retry sends the same words.
create table notifications (
  id bigint generated always as identity primary key,
  channel text not null check (channel in ('discord', 'email')),
  type text not null check (type in ('alert', 'resolution', 'digest', 'escalation', 'test')),
  created_at timestamptz not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'dropped')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  locked_until timestamptz,
  sent_at timestamptz,
  last_error text,
  payload jsonb not null
);
create index notifications_due_idx on notifications (channel, next_attempt_at) where status in ('pending', 'failed');
create index notifications_created_idx on notifications (channel, created_at desc);

-- What the sweep wants told, per alert and channel; grouped into a message (notification_id) when due.
create table alert_notices (
  id bigint generated always as identity primary key,
  alert_id uuid not null references alerts (id) on delete cascade,
  channel text not null check (channel in ('discord', 'email')),
  type text not null check (type in ('opened', 'resolved', 'escalated')),
  created_at timestamptz not null,
  notification_id bigint references notifications (id) on delete set null
);
create index alert_notices_pending_idx on alert_notices (channel, created_at) where notification_id is null;
create index alert_notices_alert_idx on alert_notices (alert_id);

-- Self-healing: each step of the ladder taken for an alert, with the command that carried it out.
create table alert_remediations (
  id bigint generated always as identity primary key,
  alert_id uuid not null references alerts (id) on delete cascade,
  device_id uuid not null references devices (id) on delete cascade,
  step integer not null,
  action text not null check (action in ('RELAUNCH_APP', 'CLEAR_APP_DATA', 'REBOOT', 'ESCALATE')),
  command_id uuid references commands (id) on delete set null,
  taken_at timestamptz not null,
  -- null while waiting for the outcome
  outcome text check (outcome in ('fixed', 'not_fixed', 'command_failed', 'timed_out', 'budget_exhausted', 'breaker_open', 'escalated')),
  outcome_at timestamptz,
  unique (alert_id, step)
);
create index alert_remediations_device_idx on alert_remediations (device_id, taken_at desc);

-- The alert settings, one row; absent until an admin saves them (defaults come from the environment).
create table alert_settings (
  id integer primary key default 1 check (id = 1),
  settings jsonb not null,
  updated_at timestamptz not null,
  updated_by uuid references admins (id)
);

-- When the last sweep ran: the next one only looks for devices that went offline since (minus a
-- margin), instead of re-reading every offline device of a large fleet. Absent: a full sweep.
create table sweep_state (
  id integer primary key default 1 check (id = 1),
  last_swept_at timestamptz not null
);
