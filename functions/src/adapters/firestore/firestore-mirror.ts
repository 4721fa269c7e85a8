import type { Firestore } from 'firebase-admin/firestore';
import type { DeviceDoc, FleetSummary, Mirror } from '../../ports/mirror.js';

/** Firestore collections the admin console reads (firestore.rules lets signed-in admins read them, nobody write). */
export const DEVICES_COLLECTION = 'devices';
export const FLEET_COLLECTION = 'fleet';
export const SUMMARY_DOC = 'summary';
const BATCH_LIMIT = 500;

/** The Firebase mirror: one Firestore document per device and the fleet summary, written in batches of 500. */
export class FirestoreMirror implements Mirror {
  constructor(private readonly firestore: Firestore) {}

  async writeDevices(docs: DeviceDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += BATCH_LIMIT) {
      const batch = this.firestore.batch();
      for (const doc of docs.slice(i, i + BATCH_LIMIT)) batch.set(this.firestore.collection(DEVICES_COLLECTION).doc(doc.id), doc);
      await batch.commit();
    }
  }

  async removeDevices(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
      const batch = this.firestore.batch();
      for (const id of ids.slice(i, i + BATCH_LIMIT)) batch.delete(this.firestore.collection(DEVICES_COLLECTION).doc(id));
      await batch.commit();
    }
  }

  async writeSummary(summary: FleetSummary): Promise<void> {
    await this.firestore.collection(FLEET_COLLECTION).doc(SUMMARY_DOC).set(summary);
  }
}
