import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { noMirror } from '../../src/ports/mirror.js';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, testEnv, type TestApp } from '../helpers/app.js';

describe.each(DB_KINDS)('console support on %s', (kind) => {
  let t: TestApp;
  let viewer: string;
  beforeAll(async () => {
    t = await createTestApp(kind);
    viewer = await t.loginAs('viewer');
  });
  afterAll(() => t.close());

  it('tells the console, before sign-in, to use the event stream in standalone mode', async () => {
    const res = await t.request('GET', '/api/v1/console-config');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ liveSource: 'sse' });
  });

  it('gives the fleet as mirror documents, paged by id, and only recently seen devices on request', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await t.enrollDevice({ serial: `CONSOLE-${i}` });
      ids.push(d.deviceId);
      if (i < 2) {
        const beat = await t.request('POST', '/api/v1/heartbeat', {
          token: await t.deviceToken(d),
          body: sampleHeartbeat(t.clock.now(), { battery: { level: 47, charging: true } }),
        });
        expect(beat.status).toBe(200);
      }
    }
    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.request('GET', `/api/v1/admin/fleet?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: viewer });
      expect(res.status).toBe(200);
      expect(res.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.items);
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen.map((d) => d.id)).toEqual([...ids].sort());
    const first = seen.find((d) => d.id === ids[0]);
    expect(first).toEqual({
      id: ids[0],
      name: 'Pixel 7 CONSOLE-0',
      model: 'Pixel 7',
      serial: 'CONSOLE-0',
      group: null,
      tags: [],
      status: 'online',
      lastSeenAt: t.clock.now().toISOString(),
      battery: 45,
      charging: true,
      app: 'running',
      appVersionName: '2.3.0',
      appVersionCode: 230,
      agentVersion: '1.0.0',
      androidVersion: '14',
      openAlerts: [],
      updatedAt: t.clock.now().toISOString(),
    });
    expect(seen.find((d) => d.id === ids[4])).toMatchObject({ battery: null, app: 'unknown', status: 'online' });

    t.clock.advance(3600_000);
    const stale = await t.request('GET', '/api/v1/admin/fleet', { token: viewer });
    expect(stale.json.items.every((d: { status: string }) => d.status === 'offline')).toBe(true);
    const since = t.clock.now().toISOString();
    const d = await t.enrollDevice({ serial: 'CONSOLE-NEW' });
    const recent = await t.request('GET', `/api/v1/admin/fleet?seenSince=${encodeURIComponent(since)}`, { token: viewer });
    expect(recent.json.items.map((x: { id: string }) => x.id)).toEqual([d.deviceId]);
  });

  it('refuses anonymous callers and bad cursors', async () => {
    expect((await t.request('GET', '/api/v1/admin/fleet')).status).toBe(401);
    expect((await t.request('GET', '/api/v1/admin/fleet?cursor=nonsense', { token: viewer })).status).toBe(400);
    expect((await t.request('GET', '/api/v1/admin/fleet?limit=0', { token: viewer })).status).toBe(400);
  });
});

describe('console config in a Firebase deployment', () => {
  it('names Firestore and the web app when the mirror is not the event stream', async () => {
    const firebase = {
      CONSOLE_FIREBASE_API_KEY: 'AIzaSyExample',
      CONSOLE_FIREBASE_AUTH_DOMAIN: 'fleet.firebaseapp.com',
      CONSOLE_FIREBASE_PROJECT_ID: 'fleet',
      CONSOLE_FIREBASE_APP_ID: '1:123:web:abc',
    };
    const t = await createTestApp('pglite', firebase, { mirror: noMirror });
    try {
      const res = await t.request('GET', '/api/v1/console-config');
      expect(res.json).toEqual({
        liveSource: 'firestore',
        firebase: { apiKey: 'AIzaSyExample', authDomain: 'fleet.firebaseapp.com', projectId: 'fleet', appId: '1:123:web:abc' },
      });
    } finally {
      await t.close();
    }
    expect(() => loadConfig(testEnv({ CONSOLE_FIREBASE_API_KEY: 'x' }))).toThrow(
      /missing CONSOLE_FIREBASE_AUTH_DOMAIN, CONSOLE_FIREBASE_PROJECT_ID, CONSOLE_FIREBASE_APP_ID/,
    );
    // a standalone .env written before the rename still works
    const former = Object.fromEntries(Object.entries(firebase).map(([k, v]) => [k.replace('CONSOLE_FIREBASE_', 'FIREBASE_WEB_'), v]));
    expect(loadConfig(testEnv(former)).firebaseWeb).toEqual({
      apiKey: 'AIzaSyExample',
      authDomain: 'fleet.firebaseapp.com',
      projectId: 'fleet',
      appId: '1:123:web:abc',
    });
  });
});
