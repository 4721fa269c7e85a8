-- 0014: the secrets a database was written with, checkable without storing them. One row: a value
-- sealed with ENCRYPTION_KEY (AES-256-GCM) and an HMAC fingerprint of JWT_SECRET (never the secret).
-- A server started with other secrets refuses to start instead of answering 401 to every token and
-- failing every sweep on sealed values it cannot open.
create table secret_check (
  id boolean primary key default true check (id),
  sealed text not null,
  jwt_fingerprint text not null,
  created_at timestamptz not null default now()
);
