-- 0022: staged rollouts of catalog releases. A rollout moves the devices of a group (or the fleet) that
-- run release A of a package to release B in waves, each soaked and gated on app health against the
-- devices still on A. Everything the engine knows is in these rows, so it survives restarts; the tick
-- that advances it runs under the tick lease and every transition is an UPDATE guarded by the state
-- it leaves (docs/rollouts.md).
create table rollouts (
  id uuid primary key,
  name text not null,
  package_name text not null,
  from_release_id uuid not null references apk_releases (id),
  to_release_id uuid not null references apk_releases (id),
  from_version_code integer not null,
  to_version_code integer not null,
  -- null: the whole fleet
  group_id uuid references device_groups (id) on delete restrict,
  allow_downgrade boolean not null default false,
  rollback_on_failure boolean not null default true,
  soak_sec integer not null check (soak_sec > 0),
  install_timeout_sec integer not null check (install_timeout_sec > 0),
  -- what the gate allows: {appDownPct, frozenPct, offlinePct, crashesPerDeviceHour, minUpdatedPct}
  margin jsonb not null,
  state text not null check (state in ('draft', 'running', 'paused', 'completed', 'aborted', 'rolled_back')),
  -- index of the wave in progress (0-based); null before start
  current_wave integer,
  paused_reason text,
  created_at timestamptz not null,
  created_by uuid references admins (id) on delete set null,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null
);
-- one live rollout per package and group (or fleet)
create unique index rollouts_one_live_idx on rollouts (package_name, coalesce(group_id, '00000000-0000-0000-0000-000000000000'::uuid))
  where state in ('draft', 'running', 'paused');
create index rollouts_created_idx on rollouts (created_at desc, id desc);
create index rollouts_running_idx on rollouts (state) where state = 'running';

create table rollout_waves (
  rollout_id uuid not null references rollouts (id) on delete cascade,
  idx integer not null check (idx >= 0),
  -- what the operator asked for: a share of the rollout's devices (cumulative percent) or a count
  size_kind text not null check (size_kind in ('percent', 'count')),
  size_value integer not null check (size_value > 0),
  -- devices assigned at start
  device_count integer not null default 0,
  state text not null default 'pending' check (state in ('pending', 'installing', 'soaking', 'passed', 'failed')),
  installing_at timestamptz,
  soaking_at timestamptz,
  decided_at timestamptz,
  -- the gate's numbers and verdict ({passed, wave, baseline, margin, reasons} or {promotedBy})
  verdict jsonb,
  -- a failed gate's alert: claimed here once, then handed to the alert channels
  alerted_at timestamptz,
  primary key (rollout_id, idx)
);

create table rollout_devices (
  rollout_id uuid not null references rollouts (id) on delete cascade,
  device_id uuid not null references devices (id) on delete cascade,
  wave integer not null,
  -- position in the stable hash order the waves were cut from
  ord integer not null,
  -- INSTALL_APK B: claimed before it is sent (so it is sent once), then its command
  install_claimed_at timestamptz,
  install_command_id uuid,
  -- first heartbeat reporting B's versionCode after the install was sent
  updated_at timestamptz,
  -- INSTALL_APK A when the wave (or the rollout) is rolled back: asked for in the transaction that
  -- decided it, then claimed and sent like the install
  rollback_requested_at timestamptz,
  rollback_claimed_at timestamptz,
  rollback_command_id uuid,
  -- first heartbeat reporting A's versionCode again after the rollback was sent
  rolled_back_at timestamptz,
  primary key (rollout_id, device_id)
);
create index rollout_devices_wave_idx on rollout_devices (rollout_id, wave, ord);
