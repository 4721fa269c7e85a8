import { describe, expect, it } from 'vitest';
import {
  devicesFromChanges,
  isFatalFirestoreError,
  listenSince,
  removedFromChanges,
  summaryFromSnapshot,
  type DocChangeLike,
} from './firestore-mapping.js';
import { sampleDoc } from '../device-doc.fixture.js';

/** Documents as functions/src/platform/firestore-mirror.ts writes them (the DeviceDoc without transformation). */
const written = sampleDoc({
  id: '6c3a2b1e-0000-4000-8000-000000000001',
  name: 'Pixel 7 R5CT1234',
  serial: 'R5CT1234',
  group: 'Store 12',
  tags: ['lobby'],
  battery: 75,
  updatedAt: '2026-03-10T12:00:01.000Z',
});
const change = (type: DocChangeLike['type'], id: string, data: unknown): DocChangeLike => ({ type, doc: { id, data: () => data } });

describe('mapping Firestore mirror documents', () => {
  it('turns added and modified documents into device updates, with the document id as the device id', () => {
    const { id, ...rest } = written;
    const docs = devicesFromChanges([change('added', id, rest), change('modified', 'other-id', { ...rest, battery: 20, app: 'down' })]);
    expect(docs).toEqual([written, { ...written, id: 'other-id', battery: 20, app: 'down' }]);
  });

  it('keeps retired devices, and names the deleted ones apart', () => {
    const changes = [change('modified', written.id, { ...written, status: 'retired' }), change('removed', 'gone', written)];
    expect(devicesFromChanges(changes).map((d) => d.status)).toEqual(['retired']);
    expect(removedFromChanges(changes)).toEqual(['gone']);
  });

  it('ignores removals and documents that are not device documents', () => {
    const docs = devicesFromChanges([
      change('removed', written.id, written),
      change('added', 'x', { name: 'no status' }),
      change('added', 'y', null),
      change('added', 'z', { ...written, status: 'sleeping' }),
    ]);
    expect(docs).toEqual([]);
  });

  it('defaults what an older writer left out, and narrows unknown app states', () => {
    const [doc] = devicesFromChanges([change('added', 'a', { ...written, tags: undefined, openAlerts: ['offline', 7], app: 'exploded', battery: '75', serial: undefined })]);
    expect(doc).toMatchObject({ id: 'a', tags: [], openAlerts: ['offline'], app: 'unknown', battery: null, serial: null });
  });

  it('reads the fleet summary document', () => {
    const summary = { total: 3, online: 2, offline: 1, alerting: 1, appDown: 0, retired: 2, updatedAt: '2026-03-10T12:00:00.000Z' };
    expect(summaryFromSnapshot({ exists: () => true, data: () => summary })).toEqual(summary);
    // written before retired devices were counted apart
    const { retired, ...older } = summary;
    expect(retired).toBe(2);
    expect(summaryFromSnapshot({ exists: () => true, data: () => older })).toEqual({ ...older, retired: 0 });
    expect(summaryFromSnapshot({ exists: () => false, data: () => undefined })).toBeNull();
    expect(summaryFromSnapshot({ exists: () => true, data: () => ({ total: '3' }) })).toBeNull();
  });

  it('listens from a minute before the snapshot, and knows which errors need a new sign-in', () => {
    expect(listenSince('2026-03-10T12:00:00.000Z')).toBe('2026-03-10T11:59:00.000Z');
    expect(isFatalFirestoreError('permission-denied')).toBe(true);
    expect(isFatalFirestoreError('unavailable')).toBe(false);
  });
});
