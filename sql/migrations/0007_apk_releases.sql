-- 0007: agent APK releases and downloads. A release is registered by an admin with where the APK is
-- hosted (a GitHub release asset, Cloud Storage, any HTTPS URL), its SHA-256 and the signing
-- certificate's checksum; GET /api/v1/apk/latest records the download and redirects there, so the
-- same route works in standalone and Firebase without the server storing binaries.
create table apk_releases (
  id uuid primary key default gen_random_uuid(),
  version_code integer not null unique check (version_code > 0),
  version_name text not null,
  url text not null,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  signature_checksum text check (signature_checksum ~ '^[A-Za-z0-9_-]{43}$'),
  notes text,
  created_at timestamptz not null,
  created_by uuid references admins(id) on delete set null
);

create table apk_downloads (
  id bigint generated always as identity primary key,
  release_id uuid not null references apk_releases(id) on delete cascade,
  at timestamptz not null,
  ip text,
  user_agent text
);
create index apk_downloads_at on apk_downloads (at);
create index apk_downloads_release on apk_downloads (release_id, at);
