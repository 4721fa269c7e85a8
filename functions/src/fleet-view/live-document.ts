import { sql } from 'kysely';

/**
 * When a device's live document is due - the one rule of the live view, owned here and applied in
 * two places: in SQL by the heartbeat statement (devices), which keeps a fingerprint of the visible
 * fields in `devices.mirror_fp` and the time of the last write in `mirror_at`, and by the sweep, which
 * publishes the devices whose status or alerts it changed. A document is written when the visible
 * state changes, when the device comes back from offline, or when the last write is older than the
 * refresh interval - so a steady fleet costs one write per device per refresh, not per heartbeat.
 */
export interface MirrorPolicy {
  /** The batch's time: written into mirror_at for the devices whose mirror document is due. */
  now: Date;
  /** Last contact before this: the device was offline, so its document changes (it is back). */
  offlineCutoff: Date;
  /** A document written before this is refreshed even if nothing changed. */
  refreshBefore: Date;
  frozenAfterMs: number;
}

/** A policy under which nothing is ever due (a writer without a live view). */
export const NEVER_DUE = (now: Date): MirrorPolicy => ({
  now,
  offlineCutoff: new Date(0),
  refreshBefore: new Date(0),
  frozenAfterMs: 30_000,
});

/** What the console sees of the kiosk app, from a row's columns (the same words everywhere). */
export const appState = (p: string, frozenAfterMs: number) =>
  sql<string>`case when ${sql.raw(p)}app_package is null then 'unknown'
    when ${sql.raw(p)}app_running and ${sql.raw(p)}app_foreground
      and coalesce(${sql.raw(p)}app_last_frame_age_ms, 0) <= ${frozenAfterMs}::int then 'running'
    when ${sql.raw(p)}app_running and ${sql.raw(p)}app_foreground then 'frozen' else 'down' end`;

/** The visible state a mirror document shows: battery in 5% steps, charging, app state. */
export const visibleFingerprint = (p: string, frozenAfterMs: number) =>
  sql<string>`concat_ws('|', floor(${sql.raw(p)}battery_level / 5), ${sql.raw(p)}battery_charging, ${appState(p, frozenAfterMs)})`;

/**
 * The heartbeat statement's "is the document due" test, over the device row `d` as stored and the
 * newest heartbeat `l` of the batch; `fresh` is true when `l` is newer than the stored state.
 */
export const mirrorDue = (policy: MirrorPolicy, fresh: ReturnType<typeof sql>) =>
  sql`(d.mirror_at is null or d.mirror_at < ${policy.refreshBefore}::timestamptz
    or d.last_seen_at < ${policy.offlineCutoff}::timestamptz
    or (${fresh} and ${visibleFingerprint('l.', policy.frozenAfterMs)} is distinct from d.mirror_fp))`;
