import type { DeviceDoc, FleetSummary } from '../types.js';
import { toDeviceDoc, toSummary } from './live-source.js';

/**
 * Pure mapping from Firestore snapshots to the console's shapes, kept apart from the SDK so it is
 * tested without a Firestore (the browser SDK cannot reach any emulator that runs here). Collection
 * names match functions/src/platform/firestore-mirror.ts.
 */
export const DEVICES_COLLECTION = 'devices';
export const FLEET_COLLECTION = 'fleet';
export const SUMMARY_DOC = 'summary';

/** The slice of a Firestore DocumentChange this mapping reads. */
export interface DocChangeLike {
  type: 'added' | 'modified' | 'removed';
  doc: { id: string; data(): unknown };
}

/** Added and modified documents become device updates; removed ones (deleted devices) are in removedFromChanges. */
export function devicesFromChanges(changes: readonly DocChangeLike[]): DeviceDoc[] {
  const out: DeviceDoc[] = [];
  for (const c of changes) {
    if (c.type === 'removed') continue;
    const data = c.doc.data();
    const doc = toDeviceDoc(data && typeof data === 'object' ? { ...data, id: c.doc.id } : null);
    if (doc) out.push(doc);
  }
  return out;
}

/** The ids of deleted devices' documents. */
export const removedFromChanges = (changes: readonly DocChangeLike[]): string[] =>
  changes.filter((c) => c.type === 'removed').map((c) => c.doc.id);

export const summaryFromSnapshot = (snap: { exists(): boolean; data(): unknown }): FleetSummary | null =>
  snap.exists() ? toSummary(snap.data()) : null;

/**
 * Where the listener starts: documents written after the snapshot the console loaded over HTTP,
 * less a margin for clock skew between the functions that write and the database that answered.
 * ISO strings in UTC compare in time order, so this is a plain `where('updatedAt', '>', since)`.
 */
export function listenSince(snapshotAt: string, skewMs = 60_000): string {
  return new Date(Date.parse(snapshotAt) - skewMs).toISOString();
}

/** Firestore error codes after which listening again cannot help until the operator signs in. */
export const isFatalFirestoreError = (code: string | undefined) => code === 'permission-denied' || code === 'unauthenticated';
