-- 0031: the alert sweep works in bounded batches.
-- A whole fleet going offline at once (a region's outage, the server down for longer than the offline
-- threshold) made the sweep's one statement open an alert for every device in one go: at a million
-- devices it ran into the statement timeout on every tick, rolled back, and no alert opened again until
-- the devices came back. The sweep now opens and resolves at most a batch per statement, oldest first,
-- and runs statements until the work is done or the tick's time is up. The offline devices it has not
-- reached yet are found again from here: the oldest last contact not yet alerted (null: none waiting).
alter table sweep_state add column offline_backlog_from timestamptz;
