-- 0002: an enrollment token may enroll up to max_uses devices (default 1: single use), for provisioning
-- stations and QR codes that prepare a batch of devices with one token. used_at is set when the last
-- use is taken. The one-device-per-token unique index gives way to a use counter checked in SQL.

alter table enrollment_tokens
  add column max_uses integer not null default 1 check (max_uses between 1 and 100000),
  add column use_count integer not null default 0;
alter table enrollment_tokens
  add constraint enrollment_tokens_use_count_check check (use_count between 0 and max_uses);

alter table devices drop constraint devices_enrollment_token_id_key;
create index devices_enrollment_token_idx on devices (enrollment_token_id);
