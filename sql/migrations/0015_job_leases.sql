-- 0015: job leases, so that with several instances on one database each periodic job (the sweep tick,
-- maintenance) runs on one instance per interval. A lease is one row per job: who holds it and until
-- when. It is taken or renewed with one statement (insert ... on conflict do update ... where expired or
-- mine ... returning): the holder keeps it by renewing it each run; another instance gets it only once
-- it has expired, that is when the holder missed its run (stopped or died).
create table job_leases (
  name text primary key,
  owner text not null,
  expires_at timestamptz not null
);
