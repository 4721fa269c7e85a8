-- 0011: an agent release can also be uploaded to the server itself (the APK's bytes kept here), so a
-- standalone server at a site without other hosting serves its own agent. A release is either hosted
-- elsewhere (url) or stored here (content); downloads of a stored one are served, not redirected.
alter table apk_releases
  alter column url drop not null,
  add column content bytea,
  add column size_bytes bigint check (size_bytes > 0),
  add constraint apk_releases_url_or_content check ((url is null) <> (content is null));
