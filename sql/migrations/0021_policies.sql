-- 0021: declarative policies (docs/policies.md). Three layers - the fleet default, one per group, an
-- optional override per device - each saved as a new immutable row of policy_versions; `policies`
-- holds each layer's current document and the EFFECTIVE document (fleet, then group, then device,
-- field by field) with its hash, so the heartbeat statement learns a device's effective hash with one
-- primary-key lookup and no second query. A device's latest compliance report is one row, upserted.
create table policy_versions (
  -- the version number: one sequence for every layer, so a newer save always has a larger number
  id bigint generated always as identity primary key,
  scope text not null check (scope in ('fleet', 'group', 'device')),
  group_id uuid references device_groups (id) on delete cascade,
  device_id uuid references devices (id) on delete cascade,
  -- null: the device override was removed
  document jsonb,
  diff jsonb not null default '[]',
  created_at timestamptz not null,
  created_by uuid references admins (id) on delete set null,
  created_by_name text not null,
  check ((scope = 'fleet') = (group_id is null and device_id is null)),
  check (scope <> 'group' or (group_id is not null and device_id is null)),
  check (scope <> 'device' or (device_id is not null and group_id is null)),
  check (document is not null or scope = 'device')
);
create index policy_versions_layer_idx on policy_versions (scope, group_id, device_id, id desc);
-- these rows are history: never changed once written (deleted only with their group or device)
create function policy_versions_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'policy_versions rows are immutable: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger policy_versions_immutable before update on policy_versions
  for each row execute function policy_versions_immutable();

create table policies (
  -- 'fleet', 'g:<group id>' or 'd:<device id>': the heartbeat looks the three up by this key
  key text primary key,
  scope text not null check (scope in ('fleet', 'group', 'device')),
  group_id uuid references device_groups (id) on delete cascade,
  device_id uuid references devices (id) on delete cascade,
  version bigint not null,
  document jsonb not null,
  -- the layers merged (device rows: computed for effective_group_id, the device's group at the time)
  effective jsonb not null,
  effective_hash text,
  effective_version bigint not null,
  effective_group_id uuid,
  updated_at timestamptz not null
);
create index policies_group_idx on policies (group_id) where group_id is not null;
-- the fleet default exists from the start, empty: no policy applies until someone saves one
insert into policies (key, scope, version, document, effective, effective_hash, effective_version, updated_at)
values ('fleet', 'fleet', 0, '{}', '{}', null, 0, now());

create table device_policy_reports (
  device_id uuid primary key references devices (id) on delete cascade,
  hash text not null,
  items jsonb not null,
  failed integer not null,
  unsupported integer not null,
  applied_at timestamptz,
  received_at timestamptz not null
);
