-- 0020: every authentication failure is audited, aggregated per scope, client address and minute so a
-- flood writes a bounded number of rows. A failure adds one to its bucket (insert ... on conflict do
-- update); each tick moves the buckets of minutes that have ended into audit_log as one
-- `failed_authentication` entry each, and deletes them, in one transaction.
create table auth_failures (
  scope text not null,
  address text not null,
  minute timestamptz not null,
  failures integer not null,
  primary key (minute, scope, address)
);
