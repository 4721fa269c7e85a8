-- 0019: scoped API tokens for automation (the APK pipeline, scripts). The secret is shown once; only
-- its SHA-256 is stored (a 256-bit random secret needs no slow hash, and the hash is an indexed
-- lookup). A token carries scopes and an expiry; revoking it takes effect on the next request.
-- Requests made with it are audited under actor_type 'token' with the token's name.
create table api_tokens (
  id uuid primary key,
  name text not null check (length(name) between 1 and 64),
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null check (cardinality(scopes) > 0),
  created_by uuid references admins (id) on delete set null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_by uuid references admins (id) on delete set null,
  last_used_at timestamptz,
  check (expires_at > created_at)
);
create unique index api_tokens_live_name on api_tokens (name) where revoked_at is null;
create index api_tokens_created_idx on api_tokens (created_at desc, id desc);

alter table audit_log
  drop constraint audit_log_actor_type_check,
  add constraint audit_log_actor_type_check check (actor_type in ('admin', 'device', 'system', 'token'));
