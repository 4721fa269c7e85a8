-- 0006: what the live mirror (Firestore documents, or the standalone server's event stream) last
-- showed of each device, so a heartbeat writes the mirror only when something an operator would see
-- changed: a fingerprint of the visible state and when it was last written.
alter table devices
  add column mirror_fp text,
  add column mirror_at timestamptz;
