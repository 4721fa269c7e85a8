import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxConnections, PLAN } from '../../src/firebase/plan.js';
import { firebaseFunctionsEnv } from '../helpers/firebase.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { sampleDevice, sampleHeartbeat } from '../helpers/app.js';
import { unsignedApk } from '../../../docs/vectors/apk/build-apk.mjs';

type Fn = (req: unknown, res: unknown) => unknown;

/**
 * The Firebase exports (src/index.ts), called directly as the functions framework would: the same
 * handler as standalone behind each HTTPS function, on a real PostgreSQL, with params from the
 * environment as in the emulator. No Google service is reached (FUNCTIONS_EMULATOR: no FCM, no
 * Firestore, no Pub/Sub).
 */
describe('the Firebase functions', () => {
  let fns: Record<string, Fn & { __endpoint: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await clonePostgresDatabase();
    Object.assign(process.env, firebaseFunctionsEnv(databaseUrl));
    fns = (await import('../../src/index.js')) as unknown as typeof fns;
    const { getRuntime } = await import('../../src/firebase/runtime.js');
    const { app } = await getRuntime('api');
    await app.services.admins.ensureFirstAdmin({ email: 'ops@example.com', password: 'firebase test password', allowGenerated: false });
  });
  afterAll(async () => {
    const { getRuntime } = await import('../../src/firebase/runtime.js');
    const { app, database } = await getRuntime('api');
    await app.close();
    await database.close();
    await dropPostgresDatabase(databaseUrl);
  });

  /** A request the way the functions framework hands it over (Express, body already read into rawBody). */
  async function call(fn: string, method: string, url: string, body?: unknown, token?: string) {
    const file = Buffer.isBuffer(body);
    const raw = body === undefined ? undefined : file ? body : Buffer.from(JSON.stringify(body));
    const type = file ? 'application/vnd.android.package-archive' : 'application/json';
    const req = {
      method,
      url,
      originalUrl: url,
      ip: '203.0.113.5',
      headers: { ...(raw ? { 'content-type': type } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      rawBody: raw,
      body,
      get: () => undefined,
      header: () => undefined,
    };
    const out = { status: 0, headers: {} as Record<string, unknown>, body: '' };
    await new Promise<void>((resolve) => {
      const res = {
        status: (s: number) => ((out.status = s), res),
        setHeader: (k: string, v: unknown) => void (out.headers[k] = v),
        getHeader: (k: string) => out.headers[k],
        set: () => res,
        send: (b: string | Buffer) => {
          out.body = b.toString();
          resolve();
        },
        end: () => resolve(),
        on: () => res,
        headersSent: false,
      };
      void fns[fn]!(req, res);
    });
    return { ...out, json: out.body ? JSON.parse(out.body) : undefined };
  }

  it('enrolls through `device`, heartbeats through `heartbeat`, and reads through `api`', async () => {
    const admin = (await call('api', 'POST', '/api/v1/admin/login', { email: 'ops@example.com', password: 'firebase test password' })).json;
    expect(admin.firebaseToken).toEqual(expect.any(String)); // for the console's Firestore sign-in
    const token = (await call('api', 'POST', '/api/v1/admin/enrollment-tokens', { label: 'firebase' }, admin.token)).json.token;
    const enrolled = await call('device', 'POST', '/api/v1/enroll', { enrollmentToken: token, device: sampleDevice() });
    expect(enrolled.status).toBe(201);
    const session = (
      await call('device', 'POST', '/api/v1/device/session', { deviceId: enrolled.json.deviceId, deviceSecret: enrolled.json.deviceSecret })
    ).json;
    const beat = await call('heartbeat', 'POST', '/api/v1/heartbeat', sampleHeartbeat(new Date()), session.accessToken);
    expect(beat.status).toBe(200);
    expect(beat.headers['x-content-type-options']).toBe('nosniff');
    const list = await call('api', 'GET', '/api/v1/admin/devices?status=online', undefined, admin.token);
    expect(list.json.items.map((d: { id: string }) => d.id)).toEqual([enrolled.json.deviceId]);
  });

  it('reads an APK upload from the body the framework already buffered (rawBody), with the same refusals', async () => {
    const admin = (await call('api', 'POST', '/api/v1/admin/login', { email: 'ops@example.com', password: 'firebase test password' })).json;
    // parsed as far as the signature from the buffer in place (no Cloud Storage here to store a good one)
    const unsigned = await call('api', 'POST', '/api/v1/admin/releases', unsignedApk({ packageName: 'a.b', versionCode: 1 }), admin.token);
    expect([unsigned.status, unsigned.json.error.code]).toEqual([400, 'unsigned_apk']);
    const text = await call('api', 'POST', '/api/v1/admin/releases', Buffer.from('not an apk'), admin.token);
    expect([text.status, text.json.error.code]).toEqual([400, 'not_an_apk']);
  });

  it('keeps each function to its share of the API', async () => {
    expect((await call('heartbeat', 'GET', '/api/v1/admin/devices')).status).toBe(404);
    expect((await call('api', 'POST', '/api/v1/heartbeat', {})).status).toBe(404);
    expect((await call('device', 'GET', '/api/v1/admin/me')).status).toBe(404);
    expect((await call('api', 'GET', '/api/v1/admin/stream')).json.error.code).toBe('unauthenticated');
  });

  it('declares each function with its plan, the secrets, and a connection budget the database can take', () => {
    expect(fns.heartbeat!.__endpoint).toMatchObject({ concurrency: 80, minInstances: 1, availableMemoryMb: 512 });
    // the planned instances, or one under a small DB_CONNECTION_LIMIT (plan.ts); the deploy resolves it
    expect(String(fns.heartbeat!.__endpoint.maxInstances)).toBe('params.DB_CONNECTION_LIMIT < 32 ? 1 : 15');
    // a VPC connector for private IP when VPC_CONNECTOR names one, for private ranges only
    expect(fns.heartbeat!.__endpoint.vpc).toMatchObject({ egressSettings: 'PRIVATE_RANGES_ONLY' });
    expect(String(fns.heartbeat!.__endpoint.vpc.connector)).toBe('params.VPC_CONNECTOR');
    expect(fns.heartbeat!.__endpoint.secretEnvironmentVariables.map((s: { key: string }) => s.key).sort()).toEqual([
      'DB_PASSWORD',
      'DISCORD_WEBHOOK_URL',
      'ENCRYPTION_KEY',
      'JWT_SECRET',
      'METRICS_TOKEN',
      'SMTP_URL',
    ]);
    expect(fns.dispatch!.__endpoint.eventTrigger).toMatchObject({ eventFilters: { topic: 'command-batches' }, retry: true });
    expect(fns.tick!.__endpoint.scheduleTrigger.schedule).toBe('every 1 minutes');
    expect(maxConnections(PLAN)).toBeLessThanOrEqual(90); // of the smallest instance's 100
  });
});
