import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { DiskBlobStore } from '../../src/adapters/local/disk-blob-store.js';
import { TempSpool } from '../../src/adapters/local/temp-spool.js';
import type { AppSecrets } from '../../src/app.js';
import { createStandaloneApp, type StandaloneApp, type StandaloneOverrides } from '../../src/standalone/adapters.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { HttpResponse } from '../../src/core/route.js';
import { FakeClock } from '../../src/core/clock.js';
import { memoryLogger } from '../../src/adapters/logging/logger.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './db.js';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'correct horse battery';

export const testEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ADMIN_BCRYPT_ROUNDS: '4',
  DEVICE_SECRET_BCRYPT_ROUNDS: '4',
  PUBLIC_URL: 'https://mdm.example.com',
  // tests send many heartbeats per device on a frozen clock; the quota has its own test
  HEARTBEAT_DEVICE_MAX_PER_MIN: '600',
  ...overrides,
});

export interface TestApp {
  app: StandaloneApp;
  db: TestDatabase;
  clock: FakeClock;
  config: Config;
  logs: ReturnType<typeof memoryLogger>;
  /** The app's secrets (tests forge tokens with them). */
  secrets: AppSecrets;
  request(method: string, path: string, opts?: RequestOptions): Promise<TestResponse>;
  /** Signs in as a new admin of the given role (created directly in the database). */
  loginAs(role: 'viewer' | 'operator' | 'admin'): Promise<string>;
  /** Creates a token as admin and enrolls a device with it; returns the enrollment response. */
  enrollDevice(overrides?: Partial<EnrollDevice>): Promise<EnrolledDevice>;
  deviceToken(device: EnrolledDevice): Promise<string>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: Buffer | string;
  token?: string;
  headers?: Record<string, string>;
  ip?: string;
}

export interface TestResponse extends HttpResponse {
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface EnrollDevice {
  model: string;
  manufacturer: string;
  androidVersion: string;
  sdkInt: number;
  serial?: string;
  agentVersion: string;
  agentVersionCode?: number;
}
export interface EnrolledDevice {
  deviceId: string;
  deviceSecret: string;
  hmacKey: string;
  heartbeatIntervalSec: number;
}

export const sampleDevice = (): EnrollDevice => ({
  model: 'Pixel 7',
  manufacturer: 'Google',
  androidVersion: '14',
  sdkInt: 34,
  serial: `SN${randomBytes(4).toString('hex').toUpperCase()}`,
  agentVersion: '1.0.0',
});

export const sampleHeartbeat = (sentAt: Date, overrides: Record<string, unknown> = {}) => ({
  sentAt: sentAt.toISOString(),
  battery: { level: 80, charging: false, temperatureC: 31.5 },
  memory: { availBytes: 1_000_000_000, totalBytes: 4_000_000_000 },
  storage: { freeBytes: 10_000_000_000, totalBytes: 64_000_000_000 },
  network: { type: 'wifi', rssi: -55, ip: '10.0.0.7' },
  app: { package: 'com.example.kiosk', running: true, foreground: true, versionName: '2.3.0', versionCode: 230, lastFrameAgeMs: 16 },
  uptimeSec: 3600,
  agentVersion: '1.0.0',
  ...overrides,
});

export async function createTestApp(kind: DbKind, env: Record<string, string> = {}, adapters: StandaloneOverrides = {}): Promise<TestApp> {
  const db = await createTestDatabase(kind);
  const config = loadConfig(testEnv(env));
  const clock = new FakeClock('2026-03-10T12:00:00Z');
  const logs = memoryLogger();
  const secrets: AppSecrets = { jwtSecret: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32) };
  const app = createStandaloneApp({
    config,
    secrets,
    db: db.db,
    dbPool: db.stats,
    logger: logs,
    clock,
    // APK files and spooled uploads in directories of the test's own
    overrides: {
      blobs: new DiskBlobStore(await mkdtemp(join(tmpdir(), 'fleet-mdm-blobs-'))),
      spool: new TempSpool(join(await mkdtemp(join(tmpdir(), 'fleet-mdm-spool-')), 'uploads')),
      ...adapters,
    },
  });
  await app.maintenance();
  await app.services.admins.ensureFirstAdmin({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD, allowGenerated: false });

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> => {
    const q = path.indexOf('?');
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: Buffer | undefined;
    if (opts.rawBody !== undefined) body = Buffer.from(opts.rawBody);
    else if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.handle({
      method,
      path: q === -1 ? path : path.slice(0, q),
      query: new URLSearchParams(q === -1 ? '' : path.slice(q + 1)),
      headers,
      body,
      ip: opts.ip ?? '192.0.2.10',
    });
    if (res.file) {
      // a streamed file (an APK download), read whole here as a client would
      const chunks: Buffer[] = [];
      await res.file.pipeTo(
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            chunks.push(Buffer.from(chunk)); // a copy: the sender reuses its buffer
            done();
          },
        }),
      );
      res.body = Buffer.concat(chunks);
      delete res.file;
    }
    const text = res.body.toString();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { ...res, json };
  };

  // A fresh session each time: tests move the clock past session lifetimes.
  const asAdmin = async () =>
    (await request('POST', '/api/v1/admin/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).json.token as string;

  let roleSeq = 0;
  return {
    app,
    db,
    clock,
    config,
    logs,
    secrets,
    request,
    async loginAs(role) {
      if (role === 'admin') return asAdmin();
      const email = `${role}${++roleSeq}@example.com`;
      const bcrypt = (await import('bcryptjs')).default;
      await db.db
        .insertInto('admins')
        .values({ email, role, name: role, password_hash: await bcrypt.hash('role password 1', 4) })
        .execute();
      const res = await request('POST', '/api/v1/admin/login', { body: { email, password: 'role password 1' } });
      return res.json.token as string;
    },
    async enrollDevice(overrides = {}) {
      const token = await asAdmin();
      const created = await request('POST', '/api/v1/admin/enrollment-tokens', { token, body: { label: 'test' } });
      const res = await request('POST', '/api/v1/enroll', {
        body: { enrollmentToken: created.json.token, device: { ...sampleDevice(), ...overrides } },
      });
      if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${res.body.toString()}`);
      return res.json as EnrolledDevice;
    },
    async deviceToken(device) {
      const res = await request('POST', '/api/v1/device/session', {
        body: { deviceId: device.deviceId, deviceSecret: device.deviceSecret },
      });
      if (res.status !== 200) throw new Error(`session failed: ${res.status} ${res.body.toString()}`);
      return res.json.accessToken as string;
    },
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}
