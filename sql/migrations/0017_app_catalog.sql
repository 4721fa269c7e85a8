-- 0017: the app catalog. apk_releases holds every app the fleet installs - the agent and the kiosk
-- apps - as releases parsed from uploaded APKs: package, versionCode, versionName, SDK levels and the
-- signer certificate digest from the v2/v3 signing block. A package's first release pins its signer
-- (catalog_packages); a release by another signer is refused until an admin rotates the pin. Releases
-- can be marked bad: never installed or served again. New releases keep their bytes in a blob store
-- (local disk or Cloud Storage: blob_key), not in the database.
--
-- Releases registered before this migration (by URL, or uploaded unparsed) keep package_name null:
-- they are history, never served or installed again; upload the agent once more to serve it.
alter table apk_releases
  add column package_name text check (package_name ~ '^[a-zA-Z][A-Za-z0-9_]*(\.[a-zA-Z][A-Za-z0-9_]*)+$'),
  add column min_sdk integer check (min_sdk > 0),
  add column target_sdk integer check (target_sdk > 0),
  add column signer_sha256 text check (signer_sha256 ~ '^[0-9a-f]{64}$'),
  add column signature_scheme text check (signature_scheme in ('v2', 'v3')),
  add column blob_key text,
  add column bad_at timestamptz,
  add column bad_reason text,
  add column bad_by uuid references admins(id) on delete set null,
  drop constraint apk_releases_version_code_key,
  drop constraint apk_releases_url_or_content,
  add constraint apk_releases_one_home check (num_nonnulls(url, content, blob_key) = 1),
  add constraint apk_releases_parsed check ((package_name is null) = (signer_sha256 is null) and (package_name is null) = (blob_key is null));

-- one release per package and version; the newest good release of a package is an index range
create unique index apk_releases_package_version on apk_releases (package_name, version_code desc) where package_name is not null;

create table catalog_packages (
  package_name text primary key,
  -- the pinned signer: SHA-256 of the signing certificate (DER), lower-case hex
  signer_sha256 text not null check (signer_sha256 ~ '^[0-9a-f]{64}$'),
  pinned_at timestamptz not null,
  pinned_by uuid references admins(id) on delete set null
);
