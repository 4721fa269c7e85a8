import { FirestoreServer } from '@firestore-emulator/server';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirestoreMirror } from '../../src/adapters/firestore/firestore-mirror.js';
import { freePort } from '../helpers/server.js';
import { createTestApp, sampleHeartbeat, type TestApp } from '../helpers/app.js';

/**
 * The Firestore adapter against @firestore-emulator/server, an in-memory Firestore that firebase-admin
 * talks gRPC to - the real client, no mocks; and the whole path: heartbeats and sweeps on PostgreSQL
 * decide what is written, the adapter writes it, a listener sees it.
 */
describe('the Firestore mirror', () => {
  let server: FirestoreServer;
  let firebase: App;
  let firestore: Firestore;
  let t: TestApp;

  beforeAll(async () => {
    const port = await freePort();
    server = new FirestoreServer();
    await server.start(port);
    process.env.FIRESTORE_EMULATOR_HOST = `127.0.0.1:${port}`;
    firebase = initializeApp({ projectId: 'demo-mdm' }, 'mirror-test');
    firestore = getFirestore(firebase);
    t = await createTestApp('postgres', {}, { mirror: new FirestoreMirror(firestore) });
  });
  afterAll(async () => {
    await t.close();
    await deleteApp(firebase);
    await server.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  const docOf = async (id: string) => (await firestore.collection('devices').doc(id).get()).data();

  it('writes one document per device, rewrites it only for visible changes, and keeps the fleet summary', async () => {
    const seen: unknown[] = [];
    const device = await t.enrollDevice({ serial: 'FS-1' });
    const unsubscribe = firestore
      .collection('devices')
      .doc(device.deviceId)
      .onSnapshot((snap) => seen.push(snap.data()));
    expect(await docOf(device.deviceId)).toMatchObject({ id: device.deviceId, name: 'Pixel 7 FS-1', status: 'online', battery: null });

    const beat = async (level: number) =>
      t.request('POST', '/api/v1/heartbeat', {
        token: await t.deviceToken(device),
        body: sampleHeartbeat(t.clock.now(), { battery: { level, charging: false } }),
      });
    await beat(64);
    const afterFirst = (await docOf(device.deviceId))!.updatedAt;
    t.clock.advance(300_000);
    await beat(62); // same 5% step: no write
    expect((await docOf(device.deviceId))!.updatedAt).toBe(afterFirst);
    t.clock.advance(300_000);
    await beat(58);
    expect(await docOf(device.deviceId)).toMatchObject({ battery: 55, app: 'running' });

    const other = await t.enrollDevice({ serial: 'FS-2' });
    t.clock.advance(13 * 60_000);
    await t.request('POST', '/api/v1/heartbeat', { token: await t.deviceToken(other), body: sampleHeartbeat(t.clock.now()) });
    await t.app.tick();
    expect(await docOf(device.deviceId)).toMatchObject({ status: 'offline', openAlerts: ['offline'] });
    const summary = (await firestore.collection('fleet').doc('summary').get()).data();
    expect(summary).toMatchObject({ total: 2, online: 1, offline: 1, alerting: 1, appDown: 0 });

    await new Promise((r) => setTimeout(r, 200));
    unsubscribe();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toMatchObject({ status: 'offline' });
  });

  it('writes more than one batch of 500 at once', async () => {
    const mirror = new FirestoreMirror(firestore);
    const docs = Array.from({ length: 1200 }, (_, i) => ({
      id: `bulk-${i}`,
      name: `Kiosk ${i}`,
      model: 'Tab',
      serial: null,
      group: 'Bulk',
      tags: [],
      status: 'online' as const,
      lastSeenAt: new Date().toISOString(),
      battery: 50,
      charging: false,
      app: 'running' as const,
      appVersionName: '2.3.0',
      appVersionCode: 230,
      agentVersion: '1.0.0',
      androidVersion: '14',
      openAlerts: [],
      updatedAt: new Date().toISOString(),
    }));
    await mirror.writeDevices(docs);
    const stored = await firestore.collection('devices').where('group', '==', 'Bulk').count().get();
    expect(stored.data().count).toBe(1200);
    // deleted devices' documents go, in batches of 500 too
    await mirror.removeDevices(docs.slice(0, 700).map((d) => d.id));
    const left = await firestore.collection('devices').where('group', '==', 'Bulk').count().get();
    expect(left.data().count).toBe(500);
    expect(await docOf('bulk-0')).toBeUndefined();
  });
});
